/**
 * WebSocket load benchmark (issue 3): N concurrent chat clients for S seconds against a Council server
 * in a child process, over loopback only. Each client keeps one question in flight (closed loop, at most
 * one question per `--interval-ms`), and checks every frame it receives.
 *
 * Reports: questions sent, frames received (tokens, finals, errors by code), lost (sent questions with
 * neither a final nor an error frame by the end of the grace period), out of order (any frame for a
 * request other than the one in flight, or a token after its final), p50/p99 latency (send → final) and
 * time to first token, and the server process's RSS (sampled from /proc every second).
 * Targets: lost = 0 and out of order = 0.
 *
 * Backends: `seedling` runs `council serve` on models/seedling.gguf (the real council); `fake` runs
 * bench/ws-load-server.ts (real server + real FaissMemory, a FakeCouncilRuntime instead of the model,
 * which measures the server alone). `auto` (default) picks seedling when models/seedling.gguf exists
 * and `council serve` is registered. `--model <gguf>` runs `council serve` on another GGUF (backend `gguf`).
 * COUNCIL_* variables in the environment reach the server (e.g. COUNCIL_THREADS=1, COUNCIL_MAX_TOKENS).
 *
 * A `BUSY` error frame is admission control, not a loss: the client waits the frame's `retry_after_s` (else
 * `--interval-ms`) and asks its next question. `answered` latencies count finals only.
 *
 *   npx tsx bench/ws-load.ts [--clients 200] [--seconds 60] [--backend auto|seedling|fake]
 *       [--interval-ms 1000] [--queue-max 64] [--queue-max-wait-s <server default>] [--parallel 2] [--grace-seconds 120]
 *
 * Writes bench/results/ws-load-<backend>-<date>.json. Scratch data goes to bench/scratch/ (gitignored).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { cpus, loadavg, platform, release, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { WebSocket } from "ws";
import { PROJECT_ROOT, SEEDLING_PATH } from "../core/index.js";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "200" },
    seconds: { type: "string", default: "60" },
    backend: { type: "string", default: "auto" },
    model: { type: "string" },
    "interval-ms": { type: "string", default: "1000" },
    "queue-max": { type: "string", default: "64" },
    "queue-max-wait-s": { type: "string" },
    parallel: { type: "string", default: "2" },
    "grace-seconds": { type: "string", default: "120" },
    "token-delay-ms": { type: "string", default: "2" },
    out: { type: "string", default: join(PROJECT_ROOT, "bench", "results") },
  },
});
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);
const INTERVAL_MS = Number(values["interval-ms"]);
const QUEUE_MAX = Number(values["queue-max"]);
const PARALLEL = Number(values.parallel);
const GRACE_MS = Number(values["grace-seconds"]) * 1000;
for (const [name, value] of Object.entries({ CLIENTS, SECONDS, INTERVAL_MS, QUEUE_MAX, PARALLEL, GRACE_MS })) {
  if (!Number.isFinite(value) || value < 0) throw new Error(`bad ${name}: ${value}`);
}
const serveRegistered = readFileSync(join(PROJECT_ROOT, "scripts", "commands", "index.ts"), "utf8").includes("./serve.js");
const backend = values.model !== undefined ? "gguf" : values.backend === "auto" ? (existsSync(SEEDLING_PATH) && serveRegistered ? "seedling" : "fake") : values.backend;
if (backend !== "seedling" && backend !== "fake" && backend !== "gguf") throw new Error(`--backend must be auto, seedling or fake, got ${values.backend}`);
if (backend !== "fake" && !serveRegistered) throw new Error("council serve is not registered in scripts/commands/index.ts");

/** Questions from tldr page descriptions (first `> ` line of each page), or generic ones. */
function loadQuestions(): string[] {
  const dir = join(PROJECT_ROOT, "..", "shared", "datasets", "tldr", "pages", "common");
  const questions: string[] = [];
  if (existsSync(dir)) {
    for (const name of ["tar", "grep", "find", "ls", "ssh", "git", "curl", "chmod", "du", "ps", "kill", "df", "zip", "rsync", "sed", "awk", "top", "ping", "cp", "mv"]) {
      const path = join(dir, `${name}.md`);
      if (!existsSync(path)) continue;
      const line = readFileSync(path, "utf8").split("\n").find((text) => text.startsWith("> ") && !text.includes("More information"));
      if (line) questions.push(`how do I ${line.slice(2).replace(/\.$/, "").toLowerCase()} with ${name}`);
    }
  }
  return questions.length > 0 ? questions : ["how do I list files", "how do I reset a password", "why is the disk full"];
}
const QUESTIONS = loadQuestions();

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

function rssBytes(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined; // the process has exited
  }
}

async function waitHealthy(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    const status = await fetch(`${url}/health`).then((response) => response.status, () => 0);
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`server not healthy within ${timeoutMs / 1000} s`);
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
}

interface Stats {
  sent: number;
  framesReceived: number;
  tokens: number;
  finals: number;
  errors: Record<string, number>;
  outOfOrder: number;
  tokenMismatch: number;
  closedEarly: number;
  latencies: number[];
  firstTokens: number[];
  /** When each final arrived (ms, performance.now()). */
  finalAt: number[];
  /** Seconds the server asked BUSY clients to wait (retry_after_s). */
  retryAfters: number[];
}

const stats: Stats = { sent: 0, framesReceived: 0, tokens: 0, finals: 0, errors: {}, outOfOrder: 0, tokenMismatch: 0, closedEarly: 0, latencies: [], firstTokens: [], retryAfters: [], finalAt: [] };

/** One client: one question in flight, every frame checked against it. */
async function runClient(index: number, wsUrl: string, endAt: number, graceUntil: number): Promise<void> {
  const socket = new WebSocket(wsUrl);
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  let inFlight: { id: string; sentAt: number; text: string; firstTokenAt?: number; done: (retryAfterMs?: number) => void } | undefined;
  let closed = false;
  socket.on("close", () => {
    closed = true;
    inFlight?.done();
  });
  socket.on("message", (data) => {
    stats.framesReceived += 1;
    const frame = JSON.parse(data.toString()) as { type: string; id?: string; text?: string; answer?: string; code?: string; retry_after_s?: number };
    if (inFlight === undefined || frame.id !== inFlight.id) {
      stats.outOfOrder += 1;
      return;
    }
    if (frame.type === "token") {
      stats.tokens += 1;
      inFlight.firstTokenAt ??= performance.now();
      inFlight.text += frame.text ?? "";
    } else if (frame.type === "final") {
      stats.finals += 1;
      stats.finalAt.push(performance.now());
      stats.latencies.push(performance.now() - inFlight.sentAt);
      if (inFlight.firstTokenAt !== undefined) stats.firstTokens.push(inFlight.firstTokenAt - inFlight.sentAt);
      if (inFlight.text !== frame.answer) stats.tokenMismatch += 1;
      const current = inFlight;
      inFlight = undefined;
      current.done();
    } else if (frame.type === "error") {
      stats.errors[frame.code ?? "?"] = (stats.errors[frame.code ?? "?"] ?? 0) + 1;
      if (frame.retry_after_s !== undefined) stats.retryAfters.push(frame.retry_after_s);
      const current = inFlight;
      inFlight = undefined;
      current.done(frame.code === "BUSY" && frame.retry_after_s !== undefined ? frame.retry_after_s * 1000 : undefined);
    } else {
      stats.outOfOrder += 1;
    }
  });
  for (let seq = 0; Date.now() < endAt && !closed; seq++) {
    const sentAt = performance.now();
    const answered = new Promise<number | undefined>((resolve) => {
      inFlight = { id: `${index}-${seq}`, sentAt, text: "", done: resolve };
    });
    socket.send(JSON.stringify({ type: "chat", id: `${index}-${seq}`, session_id: `load-${index}`, text: QUESTIONS[(index + seq) % QUESTIONS.length] }));
    stats.sent += 1;
    let graceTimer: NodeJS.Timeout | undefined;
    const retryAfterMs = await Promise.race([answered, new Promise<undefined>((resolve) => (graceTimer = setTimeout(() => resolve(undefined), Math.max(0, graceUntil - Date.now()))))]);
    clearTimeout(graceTimer);
    if (inFlight !== undefined) break; // no answer by the grace deadline: counted as lost
    const wait = retryAfterMs ?? INTERVAL_MS - (performance.now() - sentAt);
    if (Date.now() + Math.max(0, wait) >= endAt) break; // the next question would start after the run
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  if (closed && Date.now() < endAt) stats.closedEarly += 1;
  socket.close();
}

async function main(): Promise<void> {
  const scratch = join(PROJECT_ROOT, "bench", "scratch", `ws-load-${process.pid}`);
  await mkdir(scratch, { recursive: true });
  const port = await freePort();
  const env = {
    ...process.env,
    COUNCIL_HOST: "127.0.0.1",
    COUNCIL_PORT: String(port),
    COUNCIL_DATA_DIR: scratch,
    COUNCIL_QUEUE_MAX: String(QUEUE_MAX),
    ...(values["queue-max-wait-s"] === undefined ? {} : { COUNCIL_QUEUE_MAX_WAIT_S: values["queue-max-wait-s"] }),
    COUNCIL_PARALLEL: String(PARALLEL),
    COUNCIL_MESSAGES_PER_MINUTE: "100000",
    COUNCIL_LOG_LEVEL: "warn",
    OMP_NUM_THREADS: "1",
    ...(values.model === undefined ? {} : { COUNCIL_MODEL: values.model }),
  };
  const args = backend !== "fake"
    ? ["--import", "tsx", join(PROJECT_ROOT, "scripts", "cli.ts"), "serve"]
    : ["--import", "tsx", join(PROJECT_ROOT, "bench", "ws-load-server.ts"), "--dir", join(scratch, "memory"), "--token-delay-ms", values["token-delay-ms"]];
  const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env, stdio: ["ignore", "ignore", "inherit"] });
  const httpUrl = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(httpUrl, child, 600_000);
    const rssSamples: number[] = [];
    const rssAtStart = rssBytes(child.pid!);
    const sampler = setInterval(() => {
      const rss = rssBytes(child.pid!);
      if (rss !== undefined) rssSamples.push(rss);
    }, 1000);
    const startedAt = Date.now();
    const loadStartedAt = performance.now();
    const endAt = startedAt + SECONDS * 1000;
    const graceUntil = endAt + GRACE_MS;
    console.error(`ws-load: ${backend} backend on ${httpUrl}, ${CLIENTS} clients for ${SECONDS} s…`);
    const results = await Promise.allSettled(Array.from({ length: CLIENTS }, (_, index) => runClient(index, `ws://127.0.0.1:${port}/chat`, endAt, graceUntil)));
    const wallSeconds = (Date.now() - startedAt) / 1000;
    clearInterval(sampler);
    const connectFailures = results.filter((result) => result.status === "rejected").length;
    await new Promise((resolve) => setTimeout(resolve, 1000)); // let the server see the clients' close frames
    const metricsText = await fetch(`${httpUrl}/metrics`).then((response) => response.text());
    const rssAtEnd = rssBytes(child.pid!);
    const errorFrames = Object.values(stats.errors).reduce((sum, n) => sum + n, 0);
    const lost = stats.sent - stats.finals - errorFrames;
    const latencies = [...stats.latencies].sort((a, b) => a - b);
    const firstTokens = [...stats.firstTokens].sort((a, b) => a - b);
    const mb = (bytes: number | undefined) => (bytes === undefined ? null : Math.round((bytes / 2 ** 20) * 10) / 10);
    const report = {
      benchmark: "ws-load",
      date: new Date().toISOString(),
      machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), platform: `${platform()} ${release()}`, node: process.version, loadavgAtEnd: loadavg() },
      setup: {
        backend,
        model: backend === "seedling" ? "models/seedling.gguf (council serve)" : backend === "gguf" ? `${values.model} (council serve)` : "FakeCouncilRuntime (no model) + real FaissMemory",
        councilEnv: Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith("COUNCIL_"))),
        clients: CLIENTS,
        seconds: SECONDS,
        intervalMs: INTERVAL_MS,
        queueMax: QUEUE_MAX,
        queueMaxWaitSeconds: values["queue-max-wait-s"] === undefined ? "server default" : Number(values["queue-max-wait-s"]),
        parallel: PARALLEL,
        graceSeconds: GRACE_MS / 1000,
        note: "clients and server share the same machine (loopback); each client has one question in flight",
      },
      results: {
        wallSeconds,
        connectFailures,
        sent: stats.sent,
        framesReceived: stats.framesReceived,
        tokenFrames: stats.tokens,
        finals: stats.finals,
        errorFrames: stats.errors,
        lost,
        outOfOrder: stats.outOfOrder,
        streamedTextDiffersFromFinal: stats.tokenMismatch,
        connectionsClosedEarly: stats.closedEarly,
        // Answers per second from the start to the last final (the grace period included: a queue drains after the load ends).
        answeredPerSecond: Math.round((stats.finals / Math.max(1e-3, (Math.max(...stats.finalAt) - loadStartedAt) / 1000)) * 10) / 10,
        busyShare: stats.sent === 0 ? 0 : Math.round(((stats.errors.BUSY ?? 0) / stats.sent) * 1000) / 1000,
        retryAfterSeconds: { p50: percentile([...stats.retryAfters].sort((a, b) => a - b), 50), max: percentile([...stats.retryAfters].sort((a, b) => a - b), 100) },
        latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99), max: percentile(latencies, 100) },
        timeToFirstTokenMs: { p50: percentile(firstTokens, 50), p99: percentile(firstTokens, 99) },
        serverRssMiB: { beforeLoad: mb(rssAtStart), max: mb(Math.max(...rssSamples)), afterLoad: mb(rssAtEnd) },
        serverWsConnectionsAfter: Number(/^council_ws_connections (\S+)$/m.exec(metricsText)?.[1] ?? NaN),
        serverQueueDepthAfter: Number(/^council_queue_depth (\S+)$/m.exec(metricsText)?.[1] ?? NaN),
      },
      targets: { lost: 0, outOfOrder: 0 },
      pass: lost === 0 && stats.outOfOrder === 0 && connectFailures === 0,
    };
    await mkdir(values.out, { recursive: true });
    const file = join(values.out, `ws-load-${backend}-${report.date.slice(0, 19).replace(/:/g, "-")}.json`);
    await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
    console.log(JSON.stringify(report.results, null, 2));
    console.error(`ws-load: ${report.pass ? "PASS" : "FAIL"} (lost ${lost}, out of order ${stats.outOfOrder}); wrote ${file}`);
    if (!report.pass) process.exitCode = 1;
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        resolve(undefined);
      }, 15_000);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve(undefined);
      });
    });
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
