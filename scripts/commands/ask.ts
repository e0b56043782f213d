import type { Command } from "commander";
import { CouncilError, loadConfig } from "../../core/index.js";
import { askOverWebSocket } from "../../server/index.js";

export function register(program: Command): void {
  program
    .command("ask")
    .description("Ask a running Council server (npx council serve) one question; streams the answer")
    .argument("<question>", "the question")
    .option("--url <url>", "chat WebSocket URL (default ws://<COUNCIL_HOST>:<COUNCIL_PORT>/chat)")
    .option("--token <token>", "chat token, when the server requires one (COUNCIL_CHAT_TOKENS)")
    .option("--session <id>", "session id, to continue a conversation")
    .option("--json", "print only the final frame as JSON (trace_id, answer, score, success, route, adapter)")
    .option("--timeout <seconds>", "give up after this many seconds", "120")
    .action(async (question: string, options: { url?: string; token?: string; session?: string; json?: boolean; timeout: string }) => {
      const config = loadConfig();
      const host = config.server.host === "0.0.0.0" ? "127.0.0.1" : config.server.host;
      const url = options.url ?? `ws://${host}:${config.server.port}/chat`;
      const timeoutSeconds = Number(options.timeout);
      if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new CouncilError("CONFIG_INVALID", `--timeout must be a positive number of seconds, got ${options.timeout}`);
      let streamed = "";
      const final = await askOverWebSocket({
        url,
        text: question,
        timeoutMs: timeoutSeconds * 1000,
        ...(options.token === undefined ? {} : { token: options.token }),
        ...(options.session === undefined ? {} : { sessionId: options.session }),
        ...(options.json ? {} : { onToken: (text: string) => {
          streamed += text;
          process.stdout.write(text);
        } }),
      });
      if (options.json) {
        console.log(JSON.stringify(final));
        return;
      }
      process.stdout.write("\n");
      // The critic can reject the streamed draft; the final frame then carries the revised answer.
      if (streamed !== final.answer) process.stdout.write(`(revised)\n${final.answer}\n`);
      console.error(`trace ${final.trace_id} · score ${final.score.toFixed(2)} · ${final.success ? "success" : "failure"} · route ${final.route} · adapter ${final.adapter ?? "base"}`);
    });
}
