import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { CouncilError, NATIVE_BUILD_DIR } from "../core/index.js";
import { resolveModelSource } from "./llama-model-source.js";

export interface LlamaServerProcessOptions {
  modelPath: string;
  /** LoRA adapters to preload (`--lora`, initialised at scale 0: requests choose them). @default [] */
  adapters?: readonly string[];
  /** @default native/build/bin/llama-server (built by `npm run setup`) */
  binary?: string;
  /** @default "127.0.0.1" */
  host?: string;
  /** @default a free port */
  port?: number;
  threads?: number;
  /** Total context, shared by the parallel slots. @default 2048 */
  contextSize?: number;
  /** Requests decoded at once. @default 2 */
  parallel?: number;
  /** How long to wait for `/health`. @default 120000 */
  startTimeoutMs?: number;
}

/**
 * Arguments every llama.cpp tool Council starts gets (llama-server here, llama-completion in the benches). `--no-repack`:
 * setup builds llama.cpp with -march=native, and on an AVX-512/AMX Xeon the AMX weight-repacking buffer segfaulted
 * llama-completion on the first token of a small Q8_0 qwen2 model (bench/perf/random-model.int.test.ts); without the
 * extra buffer types it runs.
 */
export const LLAMA_CPP_TOOL_ARGS: readonly string[] = ["--no-repack"];

/**
 * Runs llama.cpp's `llama-server` as a child process (loopback by default) with adapters preloaded, for the
 * `llama-server` backend and its tests. `dispose()` stops it (SIGTERM, then SIGKILL after 5 s).
 */
export class LlamaServerProcess {
  readonly url: string;
  readonly #child: ChildProcess;
  #log = "";

  private constructor(url: string, child: ChildProcess) {
    this.url = url;
    this.#child = child;
    child.stderr?.on("data", (chunk: Buffer) => this.#append(chunk));
    child.stdout?.on("data", (chunk: Buffer) => this.#append(chunk));
    // How it ended goes into the log too: a crash (SIGSEGV, SIGABRT) otherwise shows only as "not reachable".
    child.once("exit", (code, signal) => this.#append(Buffer.from(`\n[llama-server exited: ${signal === null ? `code ${code}` : `signal ${signal}`}]\n`)));
  }

  /** Errors: NATIVE_MISSING (no binary), MODEL_* (bad model), BACKEND_UNAVAILABLE (exited or not healthy in time). */
  static async start({
    modelPath,
    adapters = [],
    binary = join(NATIVE_BUILD_DIR, "bin", "llama-server"),
    host = "127.0.0.1",
    port,
    threads,
    contextSize = 2048,
    parallel = 2,
    startTimeoutMs = 120_000,
  }: LlamaServerProcessOptions): Promise<LlamaServerProcess> {
    if (!existsSync(binary)) throw new CouncilError("NATIVE_MISSING", `${binary} is missing. Run npm run setup to build llama-server.`, { details: { binary } });
    const model = await resolveModelSource({ source: modelPath });
    const listenPort = port ?? (await freePort(host));
    const args = ["-m", model, "--host", host, "--port", String(listenPort), "-c", String(contextSize), "-np", String(parallel), "--no-webui", ...LLAMA_CPP_TOOL_ARGS];
    if (threads !== undefined) args.push("-t", String(threads), "-tb", String(threads));
    for (const adapter of adapters) args.push("--lora", adapter);
    if (adapters.length > 0) args.push("--lora-init-without-apply");
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    const server = new LlamaServerProcess(`http://${host}:${listenPort}`, child);
    await server.#waitHealthy(startTimeoutMs);
    return server;
  }

  /** The last lines the server logged (for error messages). */
  get log(): string {
    return this.#log;
  }

  async dispose(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once("exit", () => resolve()));
    this.#child.kill("SIGTERM");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  #append(chunk: Buffer): void {
    this.#log = (this.#log + chunk.toString("utf8")).slice(-8_000);
  }

  async #waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exitCode: number | null = null;
    this.#child.once("exit", (code) => {
      exitCode = code ?? -1;
    });
    while (Date.now() < deadline) {
      if (exitCode !== null) {
        throw new CouncilError("BACKEND_UNAVAILABLE", `llama-server exited with code ${exitCode} during start-up:\n${this.#log.slice(-2_000)}`);
      }
      const healthy = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2_000) }).then(
        (response) => response.ok,
        () => false,
      );
      if (healthy) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await this.dispose();
    throw new CouncilError("BACKEND_UNAVAILABLE", `llama-server did not become healthy within ${timeoutMs} ms:\n${this.#log.slice(-2_000)}`);
  }
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
