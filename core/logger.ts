import { pino, type Logger } from "pino";
import type { CouncilConfig } from "./config.js";

export type { Logger };

/** Redacted wherever they appear in a log object. */
const REDACT = ["token", "*.token", "adminToken", "*.adminToken", "apiKey", "*.apiKey", "openaiApiKey", "*.openaiApiKey", "authorization", "*.authorization", "headers.authorization", "chatTokens", "*.chatTokens", "databaseUrl", "*.databaseUrl"];

/**
 * The root logger. Use `logger.child({ traceId, runId, agent })` for context.
 * Silent under tests (config sets `logLevel: "silent"` when VITEST is set).
 */
export function createLogger(config: Pick<CouncilConfig, "logLevel">, destination?: NodeJS.WritableStream): Logger {
  const options = { level: config.logLevel, redact: { paths: REDACT, censor: "[redacted]" }, base: { service: "council" } };
  return destination ? pino(options, destination) : pino(options);
}

/** A logger that drops everything (tests, library use). */
export const silentLogger: Logger = pino({ level: "silent" });
