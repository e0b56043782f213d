/**
 * The processes the real-size bench drives, side by side: `council serve` (asked over its WebSocket, as a user
 * would), llama.cpp's `llama-completion` (one generation per process, its own timings) and `llama-server`
 * (continuous batching over `--parallel` slots, asked over HTTP).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { WebSocket } from "ws";
import { CouncilError, PROJECT_ROOT } from "../../core/index.js";
import { LLAMA_CPP_TOOL_ARGS } from "../../models/index.js";

const execFileAsync = promisify(execFile);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface RunningServer {
  url: string;
  port: number;
  child: ChildProcess;
  stop: () => Promise<void>;
}

async function waitHealthy(url: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new CouncilError("BENCH_FAILED", `server exited with ${child.exitCode}: ${output().slice(-1500)}`);
    const status = await fetch(`${url}/health`).then((response) => response.status, () => 0);
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new CouncilError("BENCH_FAILED", `server not healthy within ${timeoutMs / 1000} s: ${output().slice(-1500)}`);
}

async function startProcess(command: string, args: readonly string[], env: NodeJS.ProcessEnv, port: number): Promise<RunningServer> {
  const child = spawn(command, args, { cwd: PROJECT_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    tail.push(chunk.toString());
    if (tail.length > 100) tail.shift();
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitHealthy(url, child, () => tail.join(""), 600_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, port, child, stop };
}

/** `council serve` on `model` (COUNCIL_* settings in `env` override the bench's defaults). */
export async function startCouncilServe(env: Record<string, string>): Promise<RunningServer> {
  const port = await freePort();
  return startProcess(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "scripts", "cli.ts"), "serve"], { ...process.env, ...env, COUNCIL_HOST: "127.0.0.1", COUNCIL_PORT: String(port) }, port);
}

/** `llama-server` with `parallel` slots (continuous batching is on by default). */
export async function startLlamaServer(options: { binary: string; model: string; threads: number; parallel: number; contextSize: number }): Promise<RunningServer> {
  const port = await freePort();
  const args = ["-m", options.model, "-t", String(options.threads), "-tb", String(options.threads), "-np", String(options.parallel), "-c", String(options.contextSize), "--host", "127.0.0.1", "--port", String(port), "--no-webui", ...LLAMA_CPP_TOOL_ARGS];
  return startProcess(options.binary, args, { ...process.env }, port);
}

export interface StreamedAnswer {
  /** Token frames received. */
  tokens: number;
  /** (tokens − 1) / (last token − first token). */
  decodeTokensPerSecond: number;
  /** Send → final frame. */
  turnMs: number;
  firstTokenMs: number;
  success: boolean;
}

/** Asks one question over an open chat WebSocket and times the token frames as the client receives them. */
export async function askOverWebSocket(socket: WebSocket, id: string, text: string, timeoutMs = 600_000): Promise<StreamedAnswer> {
  const sentAt = performance.now();
  let first: number | undefined;
  let last = sentAt;
  let tokens = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new CouncilError("BENCH_FAILED", `no final frame for ${id} within ${timeoutMs / 1000} s`)), timeoutMs);
    const onMessage = (data: Buffer): void => {
      const frame = JSON.parse(data.toString()) as { type: string; id?: string; code?: string; message?: string; success?: boolean };
      if (frame.id !== id) return;
      if (frame.type === "token") {
        const now = performance.now();
        first ??= now;
        last = now;
        tokens += 1;
      } else if (frame.type === "final") {
        const decode = tokens > 1 && first !== undefined ? (tokens - 1) / ((last - first) / 1000) : Number.NaN;
        finish(undefined, { tokens, decodeTokensPerSecond: decode, turnMs: performance.now() - sentAt, firstTokenMs: (first ?? Number.NaN) - sentAt, success: frame.success === true });
      } else if (frame.type === "error") {
        finish(new CouncilError("BENCH_FAILED", `council answered ${id} with ${frame.code}: ${frame.message ?? ""}`));
      }
    };
    const finish = (error: Error | undefined, answer?: StreamedAnswer): void => {
      clearTimeout(timer);
      socket.off("message", onMessage);
      if (error) reject(error);
      else resolve(answer!);
    };
    socket.on("message", onMessage);
    socket.send(JSON.stringify({ type: "chat", id, text, session_id: `bench-${id}` }));
  });
}

/** The server's `council_tokens_generated_total`, summed over its labels. */
export async function tokensGenerated(url: string): Promise<number> {
  const text = await fetch(`${url}/metrics`).then((response) => response.text());
  let total = 0;
  for (const match of text.matchAll(/^council_tokens_generated_total(?:\{[^}]*\})? (\S+)$/gm)) total += Number(match[1]);
  return total;
}

export async function openChatSocket(url: string): Promise<WebSocket> {
  const socket = new WebSocket(`${url.replace(/^http/, "ws")}/chat`);
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  return socket;
}

export interface CompletionRun {
  tokens: number;
  decodeTokensPerSecond: number;
  promptTokens: number;
}

/** One `llama-completion` run (EOS ignored, greedy); decode tokens/s from its own `eval time` line. Retries lost timing lines. */
export async function llamaCompletionRun(options: { binary: string; model: string; prompt: string; tokens: number; threads: number; contextSize: number }): Promise<CompletionRun> {
  const args = ["-m", options.model, "-p", options.prompt, "-n", String(options.tokens), "-t", String(options.threads), "-tb", String(options.threads), "-c", String(options.contextSize), "--temp", "0", "--ignore-eos", "--no-warmup", "-no-cnv", "--no-display-prompt", ...LLAMA_CPP_TOOL_ARGS];
  for (let attempt = 1; ; attempt++) {
    const { stderr } = await execFileAsync(options.binary, args, { maxBuffer: 64 << 20, timeout: 600_000 });
    const evalLine = /eval time\s*=\s*([\d.]+) ms\s*\/\s*(\d+) runs/.exec(stderr.split("\n").find((line) => /\beval time/.test(line) && !/prompt eval/.test(line)) ?? "");
    const promptLine = /prompt eval time\s*=\s*([\d.]+) ms\s*\/\s*(\d+) tokens/.exec(stderr);
    if (evalLine && promptLine) return { tokens: Number(evalLine[2]) + 1, decodeTokensPerSecond: Number(evalLine[2]) / (Number(evalLine[1]) / 1000), promptTokens: Number(promptLine[2]) };
    // llama.cpp logs from a thread that can lose its last lines at exit (about 1 run in 4 here): run again.
    if (attempt >= 8) throw new CouncilError("BENCH_FAILED", `could not read llama-completion's timings: ${stderr.slice(-1500)}`);
  }
}

/** One `/completion` request to llama-server (EOS ignored, greedy, no prompt cache). */
export async function llamaServerComplete(url: string, prompt: string, tokens: number): Promise<{ tokens: number }> {
  const response = await fetch(`${url}/completion`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ prompt, n_predict: tokens, ignore_eos: true, temperature: 0, cache_prompt: false }),
  });
  if (!response.ok) throw new CouncilError("BENCH_FAILED", `llama-server answered ${response.status}: ${(await response.text()).slice(0, 500)}`);
  const body = (await response.json()) as { tokens_predicted?: number };
  return { tokens: body.tokens_predicted ?? Number.NaN };
}
