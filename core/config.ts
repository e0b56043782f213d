import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import { bool, csvStrings, int, num } from "./config-fields.js";
import { improveConfigSchema } from "./config-improve.js";
import { CouncilError } from "./errors.js";
import { PROJECT_ROOT } from "./project-root.js";

export { PROJECT_ROOT } from "./project-root.js";

/** Default cap on an adapter version folder shared through Postgres (`memory.sharedAdapterMaxBytes`): 128 MiB. */
export const DEFAULT_SHARED_ADAPTER_MAX_BYTES = 128 * 1024 * 1024;

const agentMode = z.enum(["llm", "heuristic", "auto"]);
/** Chat tokens are bearer secrets guessed online: each must be long enough that guessing is hopeless. */
const MIN_CHAT_TOKEN_CHARS = 16;
const chatTokenList = csvStrings.superRefine((tokens, ctx) => {
  const short = tokens.findIndex((token) => token.length < MIN_CHAT_TOKEN_CHARS);
  // The message names the position, never the token (config errors are printed and logged).
  if (short >= 0) ctx.addIssue({ code: "custom", message: `chat token ${short + 1} of ${tokens.length} is shorter than ${MIN_CHAT_TOKEN_CHARS} characters; make one with \`openssl rand -hex 16\`` });
});
const originList = csvStrings.superRefine((origins, ctx) => {
  const bad = origins.find((origin) => !URL.canParse(origin) || !["http:", "https:"].includes(new URL(origin).protocol));
  if (bad !== undefined) ctx.addIssue({ code: "custom", message: `"${bad}" is not an origin; write scheme://host[:port], e.g. https://chat.example.com` });
});
export const configSchema = z
  .object({
    /** Root of all runtime state: memory, loras/, checkpoints, logs. @default the project root */
    dataDir: z.string().default(PROJECT_ROOT).describe("Root of all runtime state: memory, loras/, checkpoints, runs, logs, the admin-token and server.json files."),
    logLevel: z.enum(["silent", "fatal", "error", "warn", "info", "debug", "trace"]).default("info").describe("pino log level (`council serve` logs to stdout; other commands log to stderr)."),
    /** User cache for built artefacts (the seedling). @default ~/.cache/council (set by the CLI) */
    cacheDir: z.string().optional().describe("Built artefacts (the seedling) cached by recipe and corpus hash; `npm run setup` caches native builds under `$COUNCIL_SETUP_CACHE`. Unset: `${XDG_CACHE_HOME:-~/.cache}/council`."),
    model: z
      .object({
        backend: z.string().min(1).default("llama").describe("Chat backend by registered name: `llama` (node-llama-cpp in process), `openai` (any OpenAI-compatible server), `llama-server`; `council doctor` lists what is registered."),
        /** Path or `hf:` URI of a GGUF. @default the seedling, models/seedling.gguf */
        path: z.string().optional().describe("Path or `hf:` URI of the base GGUF. Unset: the seedling, `<project>/models/seedling.gguf`."),
        threads: int(1, 256).optional().describe("CPU threads for generation. Unset: node-llama-cpp picks."),
        contextSize: int(128, 1 << 20).default(2048).describe("Context window in tokens."),
        /** Parallel sequences (contexts) for the llama backend: the number of requests generated at once. */
        parallel: int(1, 64).default(2).describe("Requests generated at once (contexts of the llama backend)."),
        maxTokens: int(1, 1 << 16).default(160).describe("Token cap of one answer."),
        temperature: num(0, 2).default(0).describe("Sampling temperature."),
        loopBan: bool.default(true).describe("Backend `llama`: ban the token that would continue a short cycle of generated tokens (`-r-r-r-r…`, `--waits --waits…`), so a small model leaves the loop and ends its answer instead of running to the token cap (reading seedling: answers ending before the cap 94.5 % → 98.8 %, bench/results/seedling-reading-*.json)."),
        openaiBaseUrl: z.string().url().optional().describe("Base URL of the OpenAI-compatible server (backend `openai`)."),
        openaiApiKey: z.string().optional().describe("API key for the OpenAI-compatible server."),
        openaiModel: z.string().optional().describe("Model name sent to the OpenAI-compatible server."),
        llamaServerUrl: z.string().url().optional().describe("URL of a llama.cpp `llama-server` (backend `llama-server`)."),
      })
      .default({}),
    embeddings: z
      .object({
        backend: z.string().min(1).default("hash").describe("Memory embeddings by registered name: `hash` (no model), `llama`, `openai`."),
        dimensions: int(16, 8192).default(384).describe("Embedding size (hash backend)."),
        model: z.string().optional().describe("Embedding model (llama: a GGUF path; openai: a model name)."),
      })
      .default({}),
    server: z
      .object({
        host: z.string().default("127.0.0.1").describe("Interface the server listens on."),
        port: int(0, 65535).default(8080).describe("Server port (0 picks a free one). The CLI finds a running server through `<dataDir>/server.json`, not this port."),
        chatTokens: chatTokenList.default([]).describe("Comma-separated chat tokens (each at least 16 characters); empty = chat is open."),
        adminToken: z.string().min(8).optional().describe("Bearer token of the admin API. Unset: `council serve` creates `<dataDir>/admin-token` (mode 0600) and the CLI reads it from the same data dir."),
        maxFrameBytes: int(256).default(64 * 1024).describe("Largest WebSocket frame or HTTP body."),
        messagesPerMinute: int(1).default(120).describe("Chat messages (and feedback requests) per connection per minute."),
        maxBufferedBytes: int(1024).default(1 << 20).describe("Socket send buffer above which a slow client is dropped."),
        queueMax: int(1).default(64).describe("Turns waiting for generation before new chats get `BUSY`."),
        queueMaxWaitSeconds: num(0, 3600).default(15).describe("Longest expected wait (turns ahead × turn time ÷ parallel) a new chat is queued for; beyond it, or beyond one round of waiting chats before any has finished, `BUSY` with `retry_after_s` at once. 0: off (only `queueMax`)."),
        heartbeatSeconds: num(1, 3600).default(30).describe("WebSocket ping interval."),
        allowedOrigins: originList.default([]).describe("Extra browser origins (`https://chat.example.com`) allowed to open /chat; the server's own origin always is."),
        authFailuresPerMinute: int(1).default(10).describe("Failed token checks one client address may make per minute before it is answered 429 `RATE_LIMITED`."),
        /** Set by `council serve` (no environment variable): the random id GET /health reports and `<dataDir>/server.json` records, so the CLI can tell the server of its data dir from anything else on the port. */
        instanceId: z.string().optional().describe("Set by `council serve`: the id GET /health reports."),
      })
      .default({}),
    agents: z
      .object({
        router: agentMode.default("auto").describe("Router agent: `llm`, `heuristic`, or `auto` (LLM when the model is good enough)."),
        critic: agentMode.default("auto").describe("Critic agent mode."),
        agent0: agentMode.default("auto").describe("Agent-0 (nightly rewriter) mode."),
        criticThreshold: num(0, 1).default(0.5).describe("Critic score below which a turn is a failure."),
        maxRevisions: int(0, 5).default(1).describe("Revisions after a failed critique."),
        graphSpec: z.string().optional().describe("Path of a JSON graph spec that swaps nodes and prompts."),
        verifiedReuseThreshold: num(0, 1).default(0.9).describe("Question similarity (cosine) at which a verified memory entry answers the turn itself (the graph spec may override)."),
        verifiedHintThreshold: num(0, 1).default(0.6).describe("Question similarity at which a verified entry goes into the answerer's prompt as a worked example."),
      })
      .default({}),
    memory: z
      .object({
        store: z.string().min(1).default("sqlite").describe("Turn memory store by registered name: `sqlite` (SQLite under the data dir, with a FAISS index cache), `postgres` (Postgres at `COUNCIL_DATABASE_URL`, shared by replicas) or `in-memory` (nothing persists; tests and demos)."),
        faissThread: z.enum(["worker", "main"]).default("worker").describe("Thread that runs FAISS for the `sqlite` store: `worker` (the event loop never blocks) or `main` (≈0.4–1.1 ms less CPU per search, but the loop is blocked for each search; README Results)."),
        databaseUrl: z.string().optional().describe("Postgres URL of the `postgres` memory store (`postgres://user:password@host:5432/council`); its migrations are applied at start."),
        sharedAdapterMaxBytes: int(1).default(DEFAULT_SHARED_ADAPTER_MAX_BYTES).describe("With `COUNCIL_STORE=postgres`: the largest adapter version folder, in bytes, shared through Postgres so other replicas can fetch it. A bigger one is refused with `ADAPTER_TOO_LARGE`; copy `loras/versions/<version>/` to every replica instead."),
      })
      .default({}),
    kb: z
      .object({
        dir: z.string().default(join(PROJECT_ROOT, "kb")).describe("Knowledge-base folder of markdown."),
        extraDirs: csvStrings.default([]).describe("More knowledge-base folders, comma-separated."),
        titleBoost: num(0, 1).default(0.3).describe("Added to the score of the passages of a page the question names (\"What cp command…\", \"…using ssh-keygen?\"); 0 = plain cosine. 0.3 measured on the reading seedling's tldr bench (bench/results/seedling-reading-*.json)."),
        ranker: z.string().min(1).default("hybrid").describe("Passage ranker by registered name: `hybrid` (cosine + `kb.lexicalWeight` × BM25 over stemmed words, titles weighted double: finds \"which user owns a file\" in the section about the owner) or `cosine` (embeddings alone, the default before 2026-12-06; see README Results)."),
        lexicalWeight: num(0, 2).default(0.3).describe("Weight of the BM25 score (scaled to 1 for the best passage) added to cosine by the `hybrid` ranker; 0 = cosine. 0.3 measured with bench/retrieval-recall.ts (bench/results/retrieval-recall-*.json)."),
      })
      .default({}),
    improve: improveConfigSchema,
    training: z
      .object({
        trainer: z.string().min(1).default("llamacpp-lora").describe("Trainer by registered name: `llamacpp-lora` (CPU, native) or `qlora` (GPU, Python)."),
        /** The base the trainer trains on; its kind is the trainer's (`base` capability in training/trainers.ts). */
        base: z
          .string()
          .min(1)
          .optional()
          .describe(
            "Base model the trainer trains on (`council train` and the nightly loop): a GGUF for `llamacpp-lora` (default: the served model, COUNCIL_MODEL), a Hugging Face model folder (config.json, tokenizer, safetensors) for `qlora` (required; serve the GGUF converted from that same folder). `council doctor` checks the pair.",
          ),
        rank: int(1, 1024).default(16).describe("LoRA rank."),
        alpha: num(0.01, 4096).default(32).describe("LoRA alpha."),
        epochs: int(1, 1000)
          .default(10)
          .describe(
            "Epochs of `npx council train`. The nightly loop trains max(epochs, ⌈minSteps / examples⌉) epochs, at most maxEpochs, and prints the number. On the seedling's 9 own failures, 10 epochs at learning rate 2e-3 taught all 9 (bench/nightly-lora.ts, after the gradient fix in native/llama-patches/0002).",
          ),
        /** Peak learning rate (cosine decay to a tenth of it, 10 % warm-up). */
        learningRate: num(1e-7, 1)
          .default(2e-3)
          .describe(
            "Peak learning rate. On the seedling's 9 own failures (10 epochs): 4e-4 taught 5, 1e-3 taught 7, 2e-3 taught all 9 (bench/nightly-lora.ts). Before native/llama-patches/0002, llama.cpp's trainer added every step's gradient to all the earlier ones and anything above 1e-4 diverged.",
          ),
        /** LoRA targets. The output head (`output.weight`) makes small models learn exact answers (answer loss 0.22 vs 2.0). */
        targets: csvStrings.default(["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down", "output.weight"]).describe("LoRA target tensors, comma-separated (the output head makes small models learn exact answers)."),
        gradClip: num(0, 1000)
          .default(0)
          .describe("Largest global gradient L2 norm before each optimizer step of the native trainer (`llamacpp-lora`); 0 = no clipping."),
        minSteps: int(0)
          .default(300)
          .describe("The nightly loop trains at least this many optimizer steps (one per example per epoch), up to maxEpochs, so a small night still learns its few answers."),
        maxEpochs: int(1, 10_000).default(200).describe("Upper bound on the nightly loop's epochs."),
        replayRatio: num(0, 10).default(2).describe("Passing answers users rated 👍 (and the council verified) replayed per fix in the nightly dataset, those nearest to the fixes first, so the adapter keeps what already worked; 0 = fixes only. On the reading seedling, a night of 6 fixes without replay broke 2 of 235 passing answers, with 2 per fix none (bench/nightly-lora.ts)."),
        scopeSimilarity: num(0, 1)
          .default(0.5)
          .describe(
            "A nightly adapter answers only questions whose word-bigram similarity (Jaccard) to a question it was trained to fix reaches this; other turns, and the gate's cases, are answered by the base model, so it cannot break answers it was not taught about. Stored in the adapter file. 0 = every question. On the seedling (9 fixes, 237 passing answers) unscoped adapters broke 2–18 passing answers (bench/nightly-lora.ts).",
          ),
        maxUserShare: num(0.01, 1).default(0.2).describe("Largest share of one user in a harvest or dataset; applies only when at least ⌈1 / share⌉ users contributed."),
        maxPerUserPerDay: int(1).default(50).describe("Items per user per UTC day in a harvest or dataset."),
      })
      .default({}),
    eventLog: z
      .object({
        enabled: bool.default(true).describe("Append every turn, feedback, vote, dataset, training run, gate verdict, approval, review decision, deploy, promotion and rollback to the append-only event log `<dataDir>/events/YYYY-MM-DD.jsonl` (fsynced before it is acknowledged; `npx council audit`)."),
        retentionDays: int(0, 100_000).default(365).describe("Closed event-log segments older than this many days are deleted; 0 keeps them forever."),
      })
      .default({}),
  })
  .strict();

export type CouncilConfig = Readonly<z.infer<typeof configSchema>>;
type ConfigInput = z.input<typeof configSchema>;

/** Environment variable → config path. The README's configuration table mirrors this. */
export const ENV_KEYS = {
  COUNCIL_DATA_DIR: "dataDir",
  COUNCIL_LOG_LEVEL: "logLevel",
  COUNCIL_CACHE_DIR: "cacheDir",
  COUNCIL_BACKEND: "model.backend",
  COUNCIL_MODEL: "model.path",
  COUNCIL_THREADS: "model.threads",
  COUNCIL_CONTEXT_SIZE: "model.contextSize",
  COUNCIL_PARALLEL: "model.parallel",
  COUNCIL_MAX_TOKENS: "model.maxTokens",
  COUNCIL_TEMPERATURE: "model.temperature",
  COUNCIL_OPENAI_BASE_URL: "model.openaiBaseUrl",
  COUNCIL_OPENAI_API_KEY: "model.openaiApiKey",
  COUNCIL_OPENAI_MODEL: "model.openaiModel",
  COUNCIL_LLAMA_SERVER_URL: "model.llamaServerUrl",
  COUNCIL_EMBEDDINGS: "embeddings.backend",
  COUNCIL_EMBEDDING_DIM: "embeddings.dimensions",
  COUNCIL_EMBEDDING_MODEL: "embeddings.model",
  COUNCIL_HOST: "server.host",
  COUNCIL_PORT: "server.port",
  COUNCIL_CHAT_TOKENS: "server.chatTokens",
  COUNCIL_ADMIN_TOKEN: "server.adminToken",
  COUNCIL_MAX_FRAME_BYTES: "server.maxFrameBytes",
  COUNCIL_MESSAGES_PER_MINUTE: "server.messagesPerMinute",
  COUNCIL_MAX_BUFFERED_BYTES: "server.maxBufferedBytes",
  COUNCIL_QUEUE_MAX: "server.queueMax",
  COUNCIL_QUEUE_MAX_WAIT_S: "server.queueMaxWaitSeconds",
  COUNCIL_FAISS_THREAD: "memory.faissThread",
  COUNCIL_HEARTBEAT_S: "server.heartbeatSeconds",
  COUNCIL_ALLOWED_ORIGINS: "server.allowedOrigins",
  COUNCIL_AUTH_FAILURES_PER_MINUTE: "server.authFailuresPerMinute",
  COUNCIL_ROUTER_MODE: "agents.router",
  COUNCIL_CRITIC_MODE: "agents.critic",
  COUNCIL_AGENT0_MODE: "agents.agent0",
  COUNCIL_CRITIC_THRESHOLD: "agents.criticThreshold",
  COUNCIL_MAX_REVISIONS: "agents.maxRevisions",
  COUNCIL_GRAPH_SPEC: "agents.graphSpec",
  COUNCIL_LOOP_BAN: "model.loopBan",
  COUNCIL_STORE: "memory.store",
  COUNCIL_DATABASE_URL: "memory.databaseUrl",
  COUNCIL_SHARED_ADAPTER_MAX_BYTES: "memory.sharedAdapterMaxBytes",
  COUNCIL_KB_DIR: "kb.dir",
  COUNCIL_KB_EXTRA_DIRS: "kb.extraDirs",
  COUNCIL_KB_TITLE_BOOST: "kb.titleBoost",
  COUNCIL_KB_RANKER: "kb.ranker",
  COUNCIL_KB_LEXICAL_WEIGHT: "kb.lexicalWeight",
  COUNCIL_IMPROVE_POLICY: "improve.policy",
  COUNCIL_IMPROVE_CHANNELS: "improve.channels",
  COUNCIL_VERIFIED_REUSE_THRESHOLD: "agents.verifiedReuseThreshold",
  COUNCIL_VERIFIED_HINT_THRESHOLD: "agents.verifiedHintThreshold",
  COUNCIL_IMPROVE_SCHEDULE: "improve.schedule",
  COUNCIL_IMPROVE_ENABLED: "improve.enabled",
  COUNCIL_HARVEST_MIN_BATCH: "improve.harvestMinBatch",
  COUNCIL_VOTE_ACCEPT_SCORE: "improve.voteAcceptScore",
  COUNCIL_VOTE_QUORUM: "improve.voteQuorum",
  COUNCIL_VOTE_REVIEW_SCORE: "improve.voteReviewScore",
  COUNCIL_CANARY_STEPS: "improve.canarySteps",
  COUNCIL_CANARY_INTERVAL_S: "improve.canaryIntervalSeconds",
  COUNCIL_CANARY_MIN_REQUESTS: "improve.canaryMinRequests",
  COUNCIL_CANARY_MAX_ERRORS: "improve.canaryMaxErrors",
  COUNCIL_CANARY_DEADLINE_S: "improve.canaryDeadlineSeconds",
  COUNCIL_ROLLBACK_MIN_SUCCESS: "improve.rollbackMinSuccess",
  COUNCIL_ROLLBACK_MAX_SUCCESS_DROP: "improve.rollbackMaxSuccessDrop",
  COUNCIL_ROLLBACK_MAX_P95_MS: "improve.rollbackMaxP95Ms",
  COUNCIL_CANARY_MIN_RATINGS: "improve.canaryMinRatings",
  COUNCIL_CANARY_MAX_SATISFACTION_DROP: "improve.canaryMaxSatisfactionDrop",
  COUNCIL_CANARY_MAX_COST_RATIO: "improve.canaryMaxCostRatio",
  COUNCIL_GATE_MIN_SUCCESS_DELTA: "improve.gateMinSuccessDelta",
  COUNCIL_GATE_MAX_LATENCY_RATIO: "improve.gateMaxLatencyRatio",
  COUNCIL_GATE_MAX_COST_RATIO: "improve.gateMaxCostRatio",
  COUNCIL_PROMETHEUS_URL: "improve.prometheusUrl",
  COUNCIL_WEBHOOK_URL: "improve.webhookUrl",
  COUNCIL_LOCK_TTL_S: "improve.lockTtlSeconds",
  COUNCIL_EVAL_HOLDOUT: "improve.holdoutFile",
  COUNCIL_EVAL_SAFETY: "improve.safetyFile",
  COUNCIL_TRAIN_ANONYMOUS_CORRECTIONS: "improve.trainAnonymousCorrections",
  COUNCIL_TRAINER: "training.trainer",
  COUNCIL_TRAIN_BASE: "training.base",
  COUNCIL_LORA_RANK: "training.rank",
  COUNCIL_LORA_ALPHA: "training.alpha",
  COUNCIL_TRAIN_EPOCHS: "training.epochs",
  COUNCIL_TRAIN_LR: "training.learningRate",
  COUNCIL_TRAIN_MIN_STEPS: "training.minSteps",
  COUNCIL_TRAIN_GRAD_CLIP: "training.gradClip",
  COUNCIL_TRAIN_MAX_EPOCHS: "training.maxEpochs",
  COUNCIL_TRAIN_REPLAY_RATIO: "training.replayRatio",
  COUNCIL_LORA_TARGETS: "training.targets",
  COUNCIL_ADAPTER_SCOPE_SIMILARITY: "training.scopeSimilarity",
  COUNCIL_DATASET_MAX_USER_SHARE: "training.maxUserShare",
  COUNCIL_DATASET_MAX_PER_USER_DAY: "training.maxPerUserPerDay",
  COUNCIL_EVENT_LOG: "eventLog.enabled",
  COUNCIL_EVENT_LOG_RETENTION_DAYS: "eventLog.retentionDays",
} as const;

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== "object" || next === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1]!] = value;
}

/** The `COUNCIL_*` variable that sets a config path, if any. */
export function envKeyFor(path: string): string | undefined {
  return Object.entries(ENV_KEYS).find(([, p]) => p === path)?.[0];
}

export interface LoadConfigOptions {
  /** Environment to read. @default process.env */
  env?: Record<string, string | undefined>;
  /** Explicit config file; otherwise `COUNCIL_CONFIG`, then `<cwd>/council.config.json` if present. */
  configFile?: string;
  /** Values that override both file and environment (tests, CLI flags). */
  overrides?: ConfigInput;
}

/**
 * Builds the frozen configuration from `council.config.json` (optional) and `COUNCIL_*` variables
 * (environment wins over the file). Throws `CONFIG_INVALID` naming the offending key.
 */
export function loadConfig({ env = process.env, configFile, overrides }: LoadConfigOptions = {}): CouncilConfig {
  const input: Record<string, unknown> = {};
  const filePath = configFile ?? env.COUNCIL_CONFIG ?? (existsSync("council.config.json") ? "council.config.json" : undefined);
  if (filePath !== undefined) {
    let text: string;
    try {
      text = readFileSync(filePath, "utf8");
    } catch (cause) {
      throw new CouncilError("CONFIG_INVALID", `Cannot read config file ${filePath}: ${(cause as Error).message}`, { cause });
    }
    try {
      Object.assign(input, JSON.parse(text));
    } catch (cause) {
      throw new CouncilError("CONFIG_INVALID", `Config file ${filePath} is not valid JSON: ${(cause as Error).message}`, { cause });
    }
  }
  if (env.VITEST !== undefined && input.logLevel === undefined) input.logLevel = "silent";
  for (const [key, path] of Object.entries(ENV_KEYS)) {
    const value = env[key];
    if (value !== undefined && value !== "") setPath(input, path, value);
  }
  deepAssign(input, overrides ?? {});
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.join(".");
    const envKey = envKeyFor(path);
    const where = envKey ? `${envKey} (config key "${path}")` : `config key "${path || "(root)"}"`;
    throw new CouncilError("CONFIG_INVALID", `Invalid ${where}: ${issue.message}`, { details: { key: path, envKey } });
  }
  const config = parsed.data;
  if (!isAbsolute(config.dataDir)) config.dataDir = resolve(config.dataDir);
  return deepFreeze(config);
}

function deepAssign(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const existing = target[key];
      const next = typeof existing === "object" && existing !== null ? (existing as Record<string, unknown>) : {};
      target[key] = next;
      deepAssign(next, value as Record<string, unknown>);
    } else if (value !== undefined) {
      target[key] = value;
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Where runtime state lives, derived from `dataDir`. */
export function dataPaths(config: Pick<CouncilConfig, "dataDir">) {
  const root = config.dataDir;
  return {
    root,
    loras: join(root, "loras"),
    versions: join(root, "loras", "versions"),
    current: join(root, "loras", "current"),
    previous: join(root, "loras", "previous"),
    memory: join(root, "data", "memory"),
    checkpoints: join(root, "data", "checkpoints"),
    runs: join(root, "data", "runs"),
    logs: join(root, "logs"),
    events: join(root, "events"),
  } as const;
}

/** The model Council uses when none is configured. */
export const SEEDLING_PATH = join(PROJECT_ROOT, "models", "seedling.gguf");

/** Where `npm run setup` puts native builds (llama.cpp tools, the LoRA trainer). */
export const NATIVE_BUILD_DIR = join(PROJECT_ROOT, "native", "build");

export function modelPath(config: CouncilConfig): string {
  return config.model.path ?? SEEDLING_PATH;
}

/** The user's text editor (`$VISUAL`, else `$EDITOR`), for `council review`'s edit key; undefined when neither is set. */
export function editorCommand(env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  const editor = env.VISUAL || env.EDITOR;
  return editor === undefined || editor === "" ? undefined : editor;
}
