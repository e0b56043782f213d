import type { Command } from "commander";
import { CouncilError, loadConfig } from "../../core/index.js";
import { askOverWebSocket } from "../../server/index.js";
import { readServerInfo } from "./local-server.js";

export function register(program: Command): void {
  program
    .command("ask")
    .description("Ask a running Council server (npx council serve) one question; streams the answer")
    .argument("<question>", "the question")
    .option("--url <url>", "chat WebSocket URL (default: the server of this data dir from <dataDir>/server.json, else ws://<COUNCIL_HOST>:<COUNCIL_PORT>/chat)")
    .option("--token <token>", "chat token, when the server requires one (COUNCIL_CHAT_TOKENS)")
    .option("--session <id>", "session id, to continue a conversation")
    .option("--json", "print only the final frame as JSON (trace_id, answer, score, success, route, adapter, source)")
    .option("--timeout <seconds>", "give up after this many seconds", "120")
    .action(async (question: string, options: { url?: string; token?: string; session?: string; json?: boolean; timeout: string }) => {
      const config = loadConfig();
      // The server of this data dir (server.json, written by `council serve`) wins over COUNCIL_HOST/PORT.
      const running = readServerInfo(config.dataDir);
      const configured = running ?? config.server;
      const host = configured.host === "0.0.0.0" ? "127.0.0.1" : configured.host;
      const url = options.url ?? `ws://${host}:${configured.port}/chat`;
      const timeoutSeconds = Number(options.timeout);
      if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new CouncilError("CONFIG_INVALID", `--timeout must be a positive number of seconds, got ${options.timeout}`);
      // Streamed tokens are a draft: the final frame's answer replaces them (the critic may revise the draft, or replace a
      // failed one with a fallback). On a terminal the draft shows dimmed on stderr and is erased; stdout gets the answer.
      const draft = process.stderr.isTTY === true && !options.json;
      let streamed = "";
      const final = await askOverWebSocket({
        url,
        text: question,
        timeoutMs: timeoutSeconds * 1000,
        ...(options.token === undefined ? {} : { token: options.token }),
        ...(options.session === undefined ? {} : { sessionId: options.session }),
        ...(draft
          ? {
              onToken: (text: string) => {
                streamed += text;
                process.stderr.write(`\x1b[2m${text}\x1b[22m`);
              },
            }
          : {}),
      });
      if (options.json) {
        console.log(JSON.stringify(final));
        return;
      }
      if (draft && streamed.length > 0) process.stderr.write(eraseLines(streamed, process.stderr.columns ?? 80));
      process.stdout.write(`${final.answer}\n`);
      console.error(`${describeSource(final.source)} · trace ${final.trace_id} · score ${final.score.toFixed(2)} · ${final.success ? "success" : "failure"} · route ${final.route}`);
    });
}

/** "model · adapter 3f2a…", "verified answer v-…", "fallback from the tar page". */
export function describeSource(source: { kind: "model" | "memory" | "fallback"; adapter: string | null; entry?: string; page?: string }): string {
  if (source.kind === "memory") return `verified answer${source.entry ? ` ${source.entry}` : ""} · adapter ${source.adapter ?? "base model"}`;
  if (source.kind === "fallback") return `fallback${source.page ? ` from the ${source.page} page` : ""} (the council's own draft failed its critic)`;
  return `model · adapter ${source.adapter ?? "base model"}`;
}

/** ANSI sequence that moves the cursor back over `text` as printed in `columns`-wide lines and clears to the end. */
function eraseLines(text: string, columns: number): string {
  const rows = text.split("\n").reduce((sum, line) => sum + Math.max(1, Math.ceil(line.length / Math.max(1, columns))), 0);
  return `\r${rows > 1 ? `\x1b[${rows - 1}A` : ""}\x1b[0J`;
}
