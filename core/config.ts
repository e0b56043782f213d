import { existsSync, readFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { CouncilError } from "./errors.js";

/** The project root (where package.json, kb/ and the default data live). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), basenameIsDist() ? "../.." : "..");

function basenameIsDist(): boolean {
  // core/config.ts runs from <root>/core (tsx, vitest) or <root>/dist/core (compiled).
  return dirname(fileURLToPath(import.meta.url)).split(/[\\/]/).slice(-2, -1)[0] === "dist";
}

const agentMode = z.enum(["llm", "heuristic", "auto"]);
const csvNumbers = z
  .union([z.string(), z.array(z.number())])
  .transform((value, ctx) => {
    const list = typeof value === "string" ? value.split(",").map((part) => Number(part.trim())) : value;
    if (list.length === 0 || list.some((n) => !Number.isFinite(n) || n <= 0 || n > 100)) {
      ctx.addIssue({ code: "custom", message: "expected comma-separated percentages in (0, 100]" });
      return z.NEVER;
    }
    return list;
  });
const csvStrings = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (typeof value === "string" ? value.split(",").map((part) => part.trim()).filter(Boolean) : value));
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
const bool = z.union([z.boolean(), z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1")]);
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const num = (min: number, max: number) => z.coerce.number().min(min).max(max);

export const configSchema = z
  .object({
    /** Root of all runtime state: memory, loras/, checkpoints, logs. @default the project root */
    dataDir: z.string().default(PROJECT_ROOT),
    logLevel: z.enum(["silent", "fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
    /** User cache for built artefacts (the seedling). @default ~/.cache/council (set by the CLI) */
    cacheDir: z.string().optional(),
    model: z
      .object({
        /** `llama` (node-llama-cpp in process), `openai` (any OpenAI-compatible server), `llama-server`. */
        backend: z.enum(["llama", "openai", "llama-server"]).default("llama"),
        /** Path or `hf:` URI of a GGUF. @default the seedling, models/seedling.gguf */
        path: z.string().optional(),
        threads: int(1, 256).optional(),
        contextSize: int(128, 1 << 20).default(2048),
        /** Parallel sequences (contexts) for the llama backend: the number of requests generated at once. */
        parallel: int(1, 64).default(2),
        maxTokens: int(1, 1 << 16).default(160),
        temperature: num(0, 2).default(0),
        openaiBaseUrl: z.string().url().optional(),
        openaiApiKey: z.string().optional(),
        openaiModel: z.string().optional(),
        llamaServerUrl: z.string().url().optional(),
      })
      .default({}),
    embeddings: z
      .object({
        backend: z.enum(["hash", "llama", "openai"]).default("hash"),
        dimensions: int(16, 8192).default(384),
        model: z.string().optional(),
      })
      .default({}),
    server: z
      .object({
        host: z.string().default("127.0.0.1"),
        port: int(0, 65535).default(8080),
        chatTokens: chatTokenList.default([]),
        adminToken: z.string().min(8).optional(),
        maxFrameBytes: int(256).default(64 * 1024),
        messagesPerMinute: int(1).default(120),
        maxBufferedBytes: int(1024).default(1 << 20),
        queueMax: int(1).default(64),
        heartbeatSeconds: num(1, 3600).default(30),
        /** Extra browser origins (`https://chat.example.com`) allowed to open /chat; the server's own origin always is. */
        allowedOrigins: originList.default([]),
        /** Failed token checks one client address may make per minute before it is answered 429 RATE_LIMITED. */
        authFailuresPerMinute: int(1).default(10),
      })
      .default({}),
    agents: z
      .object({
        router: agentMode.default("auto"),
        critic: agentMode.default("auto"),
        agent0: agentMode.default("auto"),
        criticThreshold: num(0, 1).default(0.5),
        maxRevisions: int(0, 5).default(1),
        /** Path of a JSON graph spec that swaps nodes and prompts (researchers). */
        graphSpec: z.string().optional(),
        /** Question similarity at which a verified memory entry answers the turn itself (the graph spec may override). */
        verifiedReuseThreshold: num(0, 1).default(0.9),
        /** Question similarity at which a verified entry goes into the answerer's prompt as a worked example. */
        verifiedHintThreshold: num(0, 1).default(0.6),
      })
      .default({}),
    kb: z
      .object({
        dir: z.string().default(join(PROJECT_ROOT, "kb")),
        extraDirs: csvStrings.default([]),
      })
      .default({}),
    improve: z
      .object({
        policy: z.enum(["auto", "approve"]).default("auto"),
        /** What a night may release: verified memory entries, a LoRA adapter, or both. */
        channels: csvStrings.pipe(z.array(z.enum(["memory", "adapter"])).min(1)).default("memory,adapter"),
        schedule: z.string().default("0 2 * * *"),
        enabled: bool.default(true),
        harvestMinBatch: int(1).default(1),
        voteAcceptScore: num(0, 1).default(0.7),
        voteQuorum: int(1).default(2),
        canarySteps: csvNumbers.default("10,50,100"),
        canaryIntervalSeconds: num(0.1, 86_400).default(60),
        canaryMinRequests: int(0).default(20),
        canaryMaxErrors: int(1).default(3),
        canaryDeadlineSeconds: num(1, 7 * 86_400).default(3600),
        rollbackMinSuccess: num(0, 1).default(0.85),
        /** When stable itself is below `rollbackMinSuccess`, a canary may be at most this far below stable. */
        rollbackMaxSuccessDrop: num(0, 1).default(0.05),
        rollbackMaxP95Ms: num(1, 600_000).default(1000),
        gateMinSuccessDelta: num(-1, 1).default(0.03),
        gateMaxLatencyRatio: num(0.1, 100).default(1.1),
        prometheusUrl: z.string().url().optional(),
        webhookUrl: z.string().url().optional(),
        lockTtlSeconds: num(1, 7 * 86_400).default(6 * 3600),
        /** Holdout eval set (JSONL `{id, question, accept}`): never trained on; the gate requires it not to get worse. */
        holdoutFile: z.string().optional(),
        /** Safety eval set (JSONL `{id, question, reject}`). @default eval/safety.jsonl */
        safetyFile: z.string().default(join(PROJECT_ROOT, "eval", "safety.jsonl")),
        /** Whether corrections rated by users without a verified chat token may become training data (they are always stored). */
        trainAnonymousCorrections: bool.default(false),
      })
      .default({}),
    training: z
      .object({
        trainer: z.enum(["llamacpp-lora", "qlora"]).default("llamacpp-lora"),
        rank: int(1, 1024).default(16),
        alpha: num(0.01, 4096).default(32),
        epochs: int(1, 1000).default(8),
        /** Peak learning rate. 7e-4 is the highest that stays stable with the output head as a target (measured on the seedling). */
        learningRate: num(1e-7, 1).default(7e-4),
        /** LoRA targets. The output head (`output.weight`) makes small models learn exact answers (answer loss 0.22 vs 2.0). */
        targets: csvStrings.default(["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down", "output.weight"]),
        /** The nightly loop trains at least this many optimizer steps (one per example per epoch), up to maxEpochs. */
        minSteps: int(0).default(1200),
        maxEpochs: int(1, 10_000).default(200),
        maxUserShare: num(0.01, 1).default(0.2),
        maxPerUserPerDay: int(1).default(50),
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
  COUNCIL_HEARTBEAT_S: "server.heartbeatSeconds",
  COUNCIL_ALLOWED_ORIGINS: "server.allowedOrigins",
  COUNCIL_AUTH_FAILURES_PER_MINUTE: "server.authFailuresPerMinute",
  COUNCIL_ROUTER_MODE: "agents.router",
  COUNCIL_CRITIC_MODE: "agents.critic",
  COUNCIL_AGENT0_MODE: "agents.agent0",
  COUNCIL_CRITIC_THRESHOLD: "agents.criticThreshold",
  COUNCIL_MAX_REVISIONS: "agents.maxRevisions",
  COUNCIL_GRAPH_SPEC: "agents.graphSpec",
  COUNCIL_KB_DIR: "kb.dir",
  COUNCIL_KB_EXTRA_DIRS: "kb.extraDirs",
  COUNCIL_IMPROVE_POLICY: "improve.policy",
  COUNCIL_IMPROVE_CHANNELS: "improve.channels",
  COUNCIL_VERIFIED_REUSE_THRESHOLD: "agents.verifiedReuseThreshold",
  COUNCIL_VERIFIED_HINT_THRESHOLD: "agents.verifiedHintThreshold",
  COUNCIL_IMPROVE_SCHEDULE: "improve.schedule",
  COUNCIL_IMPROVE_ENABLED: "improve.enabled",
  COUNCIL_HARVEST_MIN_BATCH: "improve.harvestMinBatch",
  COUNCIL_VOTE_ACCEPT_SCORE: "improve.voteAcceptScore",
  COUNCIL_VOTE_QUORUM: "improve.voteQuorum",
  COUNCIL_CANARY_STEPS: "improve.canarySteps",
  COUNCIL_CANARY_INTERVAL_S: "improve.canaryIntervalSeconds",
  COUNCIL_CANARY_MIN_REQUESTS: "improve.canaryMinRequests",
  COUNCIL_CANARY_MAX_ERRORS: "improve.canaryMaxErrors",
  COUNCIL_CANARY_DEADLINE_S: "improve.canaryDeadlineSeconds",
  COUNCIL_ROLLBACK_MIN_SUCCESS: "improve.rollbackMinSuccess",
  COUNCIL_ROLLBACK_MAX_SUCCESS_DROP: "improve.rollbackMaxSuccessDrop",
  COUNCIL_ROLLBACK_MAX_P95_MS: "improve.rollbackMaxP95Ms",
  COUNCIL_GATE_MIN_SUCCESS_DELTA: "improve.gateMinSuccessDelta",
  COUNCIL_GATE_MAX_LATENCY_RATIO: "improve.gateMaxLatencyRatio",
  COUNCIL_PROMETHEUS_URL: "improve.prometheusUrl",
  COUNCIL_WEBHOOK_URL: "improve.webhookUrl",
  COUNCIL_LOCK_TTL_S: "improve.lockTtlSeconds",
  COUNCIL_EVAL_HOLDOUT: "improve.holdoutFile",
  COUNCIL_EVAL_SAFETY: "improve.safetyFile",
  COUNCIL_TRAIN_ANONYMOUS_CORRECTIONS: "improve.trainAnonymousCorrections",
  COUNCIL_TRAINER: "training.trainer",
  COUNCIL_LORA_RANK: "training.rank",
  COUNCIL_LORA_ALPHA: "training.alpha",
  COUNCIL_TRAIN_EPOCHS: "training.epochs",
  COUNCIL_TRAIN_LR: "training.learningRate",
  COUNCIL_TRAIN_MIN_STEPS: "training.minSteps",
  COUNCIL_TRAIN_MAX_EPOCHS: "training.maxEpochs",
  COUNCIL_LORA_TARGETS: "training.targets",
  COUNCIL_DATASET_MAX_USER_SHARE: "training.maxUserShare",
  COUNCIL_DATASET_MAX_PER_USER_DAY: "training.maxPerUserPerDay",
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

function envKeyFor(path: string): string | undefined {
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
  } as const;
}

/** The model Council uses when none is configured. */
export const SEEDLING_PATH = join(PROJECT_ROOT, "models", "seedling.gguf");

/** Where `npm run setup` puts native builds (llama.cpp tools, the LoRA trainer). */
export const NATIVE_BUILD_DIR = join(PROJECT_ROOT, "native", "build");

export function modelPath(config: CouncilConfig): string {
  return config.model.path ?? SEEDLING_PATH;
}
