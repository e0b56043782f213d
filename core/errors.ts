/**
 * Council's one error type. Every failure a user or operator can meet carries a `code` from
 * {@link ERROR_CODES}; `docs/errors.md` documents each code (a test keeps the two in step).
 * Check `error.code`, never the message text.
 */
export const ERROR_CODES = {
  CONFIG_INVALID: "A configuration value is invalid; the message names the key and the expected value.",
  MODEL_NOT_FOUND: "The model file or URI does not exist.",
  MODEL_INVALID: "The model file is not a loadable GGUF (corrupt, truncated, or wrong architecture).",
  MODEL_DOWNLOAD_OFFLINE: "An hf: model URI needs a download, and the network is unreachable.",
  BACKEND_UNKNOWN: "The configured backend (chat, embeddings, memory store, trainer, serving target) is not registered; the message lists the registered names.",
  BACKEND_UNAVAILABLE: "The backend (server, model, native binary) is not reachable or not loaded.",
  GGUF_INVALID: "A GGUF file could not be read or written: bad magic, version, or tensor data.",
  ADAPTER_INVALID: "A LoRA adapter file is corrupt or not a LoRA adapter GGUF.",
  ADAPTER_MISMATCH: "A LoRA adapter was trained for a different base model.",
  ADAPTER_NOT_FOUND: "The named adapter version or slot does not exist.",
  ADAPTER_STALE: "The server is not serving the adapter that the registry says is current.",
  ADAPTER_TOO_LARGE: "An adapter version's folder is larger than the cap for sharing it through Postgres.",
  PATH_UNSAFE: "A name or path escapes its folder (path separators, '..', or a symlink outside).",
  NATIVE_MISSING: "A native build (faiss-node, llama.cpp tools, the LoRA trainer) is missing; run npm run setup.",
  VECTOR_INVALID: "A vector has the wrong dimension or non-finite values.",
  MEMORY_CORRUPT: "A memory index or metadata file failed its integrity check.",
  TRACE_NOT_FOUND: "No recorded turn has this trace id.",
  TRACE_DUPLICATE: "A turn with this trace id is already recorded; trace ids are unique.",
  MEMORY_QUERY_INVALID: "A memory or knowledge-base query has an invalid k, limit, time range or filter.",
  MEMORY_SCHEMA_NEWER: "The memory database was migrated by a newer Council than this one; upgrade this replica before it opens the database.",
  FRAME_INVALID: "A WebSocket frame or HTTP body is not valid JSON or does not match the schema.",
  FRAME_TOO_LARGE: "A WebSocket frame or HTTP body exceeds the configured size limit.",
  RATE_LIMITED: "Too many messages on this connection, or too many failed token checks from this address; slow down.",
  BUSY: "The generation queue is full; retry shortly.",
  UNAUTHORIZED: "A token is missing or wrong.",
  FORBIDDEN: "The caller is known but may not do this: a foreign Origin at the chat upgrade, or rating a turn someone else asked.",
  NOT_FOUND: "The requested resource does not exist.",
  STRUCTURED_OUTPUT_INVALID: "A model's structured output did not match its schema.",
  QUORUM_NOT_REACHED: "Too few council members cast valid ballots.",
  DATASET_INVALID: "A dataset line is empty, malformed, or too long for the context.",
  DATASET_EMPTY: "After filtering, no examples remain to train on.",
  DATASET_CONTAMINATED: "Training data overlaps an evaluation set; the message lists the offending ids.",
  TRAINING_FAILED: "The trainer exited with an error or produced no adapter.",
  DISK_FULL: "There is not enough free disk space to write the output.",
  GATE_FAILED: "An adapter failed the evaluation gate.",
  RUN_NOT_FOUND: "No improvement run has this id.",
  RUN_LOCKED: "Another improvement run holds the lock.",
  PROMETHEUS_UNAVAILABLE: "Prometheus did not answer.",
  PROMETHEUS_BAD_RESPONSE: "Prometheus answered with something that is not a valid query result.",
  WEBHOOK_FAILED: "The webhook endpoint did not accept the notification.",
  BENCH_FAILED: "A benchmark step failed; the message has the end of its output.",
  TIMEOUT: "An operation did not finish within its deadline.",
  CANCELLED: "The operation was cancelled.",
  INTERNAL: "An unexpected internal error; see the logs with the trace id.",
  PORT_IN_USE: "The server's host:port is already taken (another `council serve`?); stop that process or pick another COUNCIL_PORT / --port.",
  REVIEW_NOT_FOUND: "No review-queue item has this id, or a night has already used its decision.",
  SERVER_UNVERIFIED: "Something answers where <dataDir>/server.json says the Council server is, but it is not that server; the CLI sent it no token.",
  BACKEND_DUPLICATE: "Two backends were registered under one name in the same registry (chat, embeddings, memory store, trainer, serving target).",
  CHAT_TEMPLATE_INVALID: "A model's own chat template (GGUF tokenizer.chat_template) does not parse or render, or cannot split a conversation into prompt and answer.",
  EVENT_LOG_CORRUPT: "An event-log segment (<dataDir>/events/YYYY-MM-DD.jsonl) has a line that is not an event, or its checksum does not match its contents.",
} as const;

export type CouncilErrorCode = keyof typeof ERROR_CODES;

export class CouncilError extends Error {
  override readonly name = "CouncilError";
  readonly code: CouncilErrorCode;
  /** Extra structured detail (ids, keys) for logs and API responses. Never secrets. */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: CouncilErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }

  toJSON(): { code: CouncilErrorCode; message: string; details?: Record<string, unknown> } {
    return { code: this.code, message: this.message, ...(this.details ? { details: { ...this.details } } : {}) };
  }
}

export function isCouncilError(value: unknown, code?: CouncilErrorCode): value is CouncilError {
  return value instanceof CouncilError && (code === undefined || value.code === code);
}

/** Result of an expected failure (parsing model output, validating a frame): no throwing. */
export type Result<T, E = CouncilError> = { success: true; value: T } | { success: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ success: true, value });
export const fail = <E>(error: E): Result<never, E> => ({ success: false, error });
