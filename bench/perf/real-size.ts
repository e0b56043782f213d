/**
 * `council bench perf --model <gguf>`: the serving targets at a real model size, side by side in one run against
 * llama.cpp's own binaries on the same GGUF and threads (a random Qwen2.5-0.5B-shaped Q8_0 from `--make-model`
 * by default):
 *   - stream: decode tokens/s a WebSocket client receives from `council serve` vs `llama-completion` (≥ 0.9×),
 *     runs alternating so a change in machine load hits both;
 *   - turn: council turn overhead as a share of the turn (≤ 5 %), bench/turn-overhead.ts on the model;
 *   - parallel: answers/s with N users over WebSockets vs `llama-server` with N slots (≥ 0.8×), at equal answer
 *     length (generated tokens/s: the council's answers may stop before the cap, llama-server's ignore EOS);
 *   - swap: adapter hot swap under load (0 failed requests, new adapter serving < 1 s).
 * COUNCIL_* variables in the environment override the council's settings here (recorded in the report).
 * Writes bench/results/perf-real-size-<model>-<date>.json with date, machine, `uptime` load and every run.
 */
import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, platform, release, tmpdir, totalmem } from "node:os";
import { basename, join } from "node:path";
import { CouncilError, NATIVE_BUILD_DIR, PROJECT_ROOT } from "../../core/index.js";
import { readGguf } from "../../models/gguf/index.js";
import { renderPrompt } from "../../models/index.js";
import { check, CHECKS, type PerfCheck } from "./checks.js";
import { runScript } from "./run-script.js";
import { askOverWebSocket, llamaCompletionRun, llamaServerComplete, openChatSocket, startCouncilServe, startLlamaServer, tokensGenerated, type StreamedAnswer } from "./real-size-processes.js";
import { runSwapBench } from "./swap.js";

export const REAL_SIZE_SECTIONS = ["stream", "turn", "parallel", "swap"] as const;
export type RealSizeSection = (typeof REAL_SIZE_SECTIONS)[number];

export interface RealSizeBenchOptions {
  model: string;
  sections?: readonly RealSizeSection[];
  /** Threads for every side. @default 1 (a shared 2-core machine: more threads than free cores stall ggml's barriers) */
  threads?: number;
  /** Tokens per generation (EOS ignored on llama.cpp's side). @default 64 */
  tokens?: number;
  /** Alternating stream runs per side. @default 3 */
  repeats?: number;
  /** Parallel users = slots on both sides. @default 2 */
  users?: number;
  /** Questions each user asks in the parallel section. @default 2 */
  answersPerUser?: number;
  /** Measured council turns in the turn section. @default 3 */
  turns?: number;
  /**
   * The council's chat backend: `llama` (node-llama-cpp in process, the default) or `llama-server` (the bench starts
   * one with `users` slots and points COUNCIL_LLAMA_SERVER_URL at it). @default llama
   */
  backend?: "llama" | "llama-server";
  /** @default bench/results */
  outDir?: string;
  log?: (line: string) => void;
}

const QUESTIONS = [
  "How do I reset a forgotten password for a local user account on Linux?",
  "How do I extract a tar.gz archive into a folder?",
  "How do I find which process uses port 8080?",
  "How do I see how much disk space a folder uses?",
  "My wifi keeps disconnecting, what can I do?",
  "How do I list hidden files?",
  "How do I add a printer?",
  "The VPN does not connect from the hotel.",
];
const SYSTEM = "You are an IT helpdesk assistant. Answer with the exact steps.";
const CONTEXT = 4096;

const median = (values: readonly number[]): number => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;
const uptime = (): string => {
  try {
    return execFileSync("uptime", { encoding: "utf8" }).trim();
  } catch (error) {
    return `uptime failed: ${String(error)}`;
  }
};

export interface RealSizeReport {
  benchmark: "perf-real-size";
  date: string;
  command: string;
  machine: { cpu: string | undefined; cores: number; memoryGiB: number; os: string; node: string; uptimeBefore: string; uptimeAfter: string; loadAverageBefore: number[]; loadAverageAfter: number[] };
  model: { path: string; architecture: unknown; parameters: number; fileBytes: number; tensorTypes: Record<string, number>; shape: unknown };
  setup: { backend: string; threads: number; tokens: number; repeats: number; users: number; answersPerUser: number; turns: number; contextSize: number; councilEnv: Record<string, string> };
  sections: Array<{ section: RealSizeSection; seconds: number; checks: PerfCheck[]; details: unknown; error?: string }>;
  summary: { checks: number; met: number; failedSections: string[] };
}

async function describeModel(path: string): Promise<RealSizeReport["model"]> {
  const file = await readGguf(path);
  const tensorTypes: Record<string, number> = {};
  for (const tensor of file.tensors) tensorTypes[tensor.typeName] = (tensorTypes[tensor.typeName] ?? 0) + 1;
  const shape = file.metadata.get("council.random_model.shape");
  return {
    path,
    architecture: file.metadata.get("general.architecture"),
    parameters: file.tensors.reduce((sum, tensor) => sum + tensor.elementCount, 0),
    fileBytes: statSync(path).size,
    tensorTypes,
    shape: typeof shape === "string" ? (JSON.parse(shape) as unknown) : null,
  };
}

export async function runRealSizeBench(options: RealSizeBenchOptions): Promise<{ report: RealSizeReport; file: string }> {
  const { model, sections = REAL_SIZE_SECTIONS, threads = 1, tokens = 64, repeats = 3, users = 2, answersPerUser = 2, turns = 3, backend = "llama", outDir = join(PROJECT_ROOT, "bench", "results"), log = console.log } = options;
  if (!existsSync(model)) throw new CouncilError("MODEL_NOT_FOUND", `${model} does not exist: make one with \`npx council bench perf --make-model ${model}\`.`);
  const completion = join(NATIVE_BUILD_DIR, "bin", "llama-completion");
  const llamaServer = join(NATIVE_BUILD_DIR, "bin", "llama-server");
  for (const binary of [completion, llamaServer]) if (!existsSync(binary)) throw new CouncilError("BENCH_FAILED", `${binary} is missing: run \`npm run setup\`.`);
  const uptimeBefore = uptime();
  const loadAverageBefore = loadavg().map((x) => round(x, 2));
  const scratch = await mkdtemp(join(tmpdir(), "council-real-size-"));
  const emptyKb = join(scratch, "kb");
  await mkdir(emptyKb);
  // One answer = one generation of `tokens` tokens: no revision, same cap as llama.cpp's side. The knowledge base is
  // empty so the council's answer prompt is the question alone, as on llama.cpp's side.
  const councilEnv: Record<string, string> = {
    COUNCIL_MODEL: model,
    COUNCIL_THREADS: String(threads),
    COUNCIL_PARALLEL: String(users),
    COUNCIL_CONTEXT_SIZE: String(CONTEXT),
    COUNCIL_MAX_TOKENS: String(tokens),
    COUNCIL_TEMPERATURE: "0",
    COUNCIL_MAX_REVISIONS: "0",
    COUNCIL_KB_DIR: emptyKb,
    COUNCIL_DATA_DIR: join(scratch, "data"),
    COUNCIL_MESSAGES_PER_MINUTE: "100000",
    COUNCIL_LOG_LEVEL: "warn",
    COUNCIL_IMPROVE_ENABLED: "false",
    // COUNCIL_* variables in the bench's own environment win (e.g. COUNCIL_LOOP_BAN=false to measure its cost).
    ...Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[0].startsWith("COUNCIL_") && entry[1] !== undefined)),
  };
  const results: RealSizeReport["sections"] = [];
  const timed = async (section: RealSizeSection, run: () => Promise<{ checks: PerfCheck[]; details: unknown }>): Promise<void> => {
    if (!sections.includes(section)) return;
    const started = performance.now();
    log(`perf real-size: ${section} …`);
    try {
      const { checks, details } = await run();
      results.push({ section, seconds: round((performance.now() - started) / 1000, 1), checks, details });
      for (const c of checks) log(`perf real-size: ${c.met ? "met    " : "NOT met"} ${c.name}: ${c.measured ?? "n/a"} ${c.unit} (target ${c.kind === "max" ? "≤" : "≥"} ${c.target})`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`perf real-size: ${section} failed: ${message.slice(0, 500)}`);
      results.push({ section, seconds: round((performance.now() - started) / 1000, 1), checks: [], details: null, error: message });
    }
  };
  const promptFor = (index: number) => renderPrompt([{ role: "system", content: `Ticket ${index}. ${SYSTEM}` }, { role: "user", content: QUESTIONS[index % QUESTIONS.length]! }]);

  try {
    let councilParallel: { answersPerSecond: number; tokensPerSecond: number; generatedTokens: number; answers: StreamedAnswer[]; wallSeconds: number } | undefined;
    if (sections.includes("stream") || sections.includes("parallel")) {
      log(`perf real-size: council serve on ${basename(model)} (${backend} backend, ${threads} thread(s), ${users} slot(s)) …`);
      const backendServer = backend === "llama-server" ? await startLlamaServer({ binary: llamaServer, model, threads, parallel: users, contextSize: CONTEXT }) : undefined;
      if (backendServer) Object.assign(councilEnv, { COUNCIL_BACKEND: "llama-server", COUNCIL_LLAMA_SERVER_URL: backendServer.url });
      const server = await startCouncilServe(councilEnv).catch(async (error: unknown) => {
        await backendServer?.stop();
        throw error;
      });
      try {
        const socket = await openChatSocket(server.url);
        await askOverWebSocket(socket, "warm-up", QUESTIONS[0]!);
        await timed("stream", async () => {
          const council: Array<StreamedAnswer & { generatedTokens: number }> = [];
          const native: Awaited<ReturnType<typeof llamaCompletionRun>>[] = [];
          for (let run = 1; run <= repeats; run++) {
            native.push(await llamaCompletionRun({ binary: completion, model, prompt: promptFor(run), tokens, threads, contextSize: CONTEXT }));
            const before = await tokensGenerated(server.url);
            const answer = await askOverWebSocket(socket, `stream-${run}`, QUESTIONS[run % QUESTIONS.length]!);
            // A token frame carries the text of one or more tokens: rate the span by the tokens the server generated.
            const generated = (await tokensGenerated(server.url)) - before;
            council.push({ ...answer, generatedTokens: generated, decodeTokensPerSecond: answer.tokens > 1 ? ((generated - 1) * answer.decodeTokensPerSecond) / (answer.tokens - 1) : Number.NaN });
            log(`perf real-size: stream run ${run}/${repeats}: WebSocket ${council.at(-1)!.decodeTokensPerSecond.toFixed(1)} tok/s (${council.at(-1)!.tokens} frames), llama-completion ${native.at(-1)!.decodeTokensPerSecond.toFixed(1)} tok/s`);
          }
          const ratio = median(council.map((a) => a.decodeTokensPerSecond)) / median(native.map((a) => a.decodeTokensPerSecond));
          return {
            checks: [check("streamed tokens/s to a WebSocket client vs llama-completion (decode, median)", round(ratio), "min", 0.9, "ratio")],
            details: { decodeRatio: round(ratio), websocket: { medianDecodeTokensPerSecond: round(median(council.map((a) => a.decodeTokensPerSecond)), 2), runs: council }, llamaCompletion: { medianDecodeTokensPerSecond: round(median(native.map((a) => a.decodeTokensPerSecond)), 2), runs: native } },
          };
        });
        socket.close();
        if (sections.includes("parallel")) {
          const before = await tokensGenerated(server.url);
          const started = performance.now();
          const answers = (
            await Promise.all(
              Array.from({ length: users }, async (_, user) => {
                const userSocket = await openChatSocket(server.url);
                const mine: StreamedAnswer[] = [];
                for (let index = 0; index < answersPerUser; index++) mine.push(await askOverWebSocket(userSocket, `user${user}-${index}`, QUESTIONS[(user * answersPerUser + index) % QUESTIONS.length]!));
                userSocket.close();
                return mine;
              }),
            )
          ).flat();
          const wallSeconds = (performance.now() - started) / 1000;
          const generated = (await tokensGenerated(server.url)) - before;
          councilParallel = { answersPerSecond: answers.length / wallSeconds, tokensPerSecond: generated / wallSeconds, generatedTokens: generated, answers, wallSeconds };
        }
      } finally {
        await server.stop();
        await backendServer?.stop();
      }
    }
    await timed("parallel", async () => {
      if (councilParallel === undefined) throw new CouncilError("BENCH_FAILED", "the council side of the parallel section did not run");
      log(`perf real-size: council ${councilParallel.answersPerSecond.toFixed(3)} answers/s; llama-server with ${users} slot(s) …`);
      const server = await startLlamaServer({ binary: llamaServer, model, threads, parallel: users, contextSize: CONTEXT });
      try {
        await llamaServerComplete(server.url, promptFor(0), tokens);
        const started = performance.now();
        const done = (
          await Promise.all(
            Array.from({ length: users }, async (_, user) => {
              const mine: Array<{ tokens: number }> = [];
              for (let index = 0; index < answersPerUser; index++) mine.push(await llamaServerComplete(server.url, promptFor(100 + user * answersPerUser + index), tokens));
              return mine;
            }),
          )
        ).flat();
        const wallSeconds = (performance.now() - started) / 1000;
        const native = { answersPerSecond: done.length / wallSeconds, tokensPerSecond: done.reduce((sum, a) => sum + a.tokens, 0) / wallSeconds, wallSeconds, tokensPerAnswer: done.map((a) => a.tokens) };
        // The council's answers may end before the cap (its stop strings, EOS, the loop ban), llama-server's run to it:
        // answers/s are compared at equal answer length, i.e. as generated tokens/s. Raw answers/s are kept beside.
        const ratio = councilParallel.tokensPerSecond / native.tokensPerSecond;
        return {
          checks: [check(`answers/s at equal length (generated tokens/s) with ${users} parallel users vs llama-server (${users} slots)`, round(ratio), "min", 0.8, "ratio")],
          details: {
            tokensPerSecondRatio: round(ratio),
            rawAnswersRatio: round(councilParallel.answersPerSecond / native.answersPerSecond),
            council: {
              answersPerSecond: round(councilParallel.answersPerSecond),
              tokensPerSecond: round(councilParallel.tokensPerSecond, 2),
              generatedTokens: councilParallel.generatedTokens,
              wallSeconds: round(councilParallel.wallSeconds, 1),
              tokenFramesPerAnswer: councilParallel.answers.map((a) => a.tokens),
              turnMs: councilParallel.answers.map((a) => Math.round(a.turnMs)),
            },
            llamaServer: { answersPerSecond: round(native.answersPerSecond), tokensPerSecond: round(native.tokensPerSecond, 2), wallSeconds: round(native.wallSeconds, 1), tokensPerAnswer: native.tokensPerAnswer },
          },
        };
      } finally {
        await server.stop();
      }
    });
    await timed("turn", async () => {
      const details = (await runScript("turn-overhead.ts", ["--model", model, "--threads", String(threads), "--turns", String(turns), "--modes", "heuristic"], log)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- the script's JSON
      return { checks: CHECKS.turn(details), details };
    });
    await timed("swap", async () => {
      const details = await runSwapBench({ model, swaps: 2, clients: 2, maxTokens: 12 });
      return { checks: CHECKS.swap(details), details };
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const date = new Date().toISOString();
  const report: RealSizeReport = {
    benchmark: "perf-real-size",
    date,
    command: `npx council bench perf --model ${model} --threads ${threads} --tokens ${tokens} --repeats ${repeats} --users ${users} --backend ${backend}`,
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), os: `${platform()} ${release()}`, node: process.version, uptimeBefore, uptimeAfter: uptime(), loadAverageBefore, loadAverageAfter: loadavg().map((x) => round(x, 2)) },
    model: await describeModel(model),
    setup: { backend, threads, tokens, repeats, users, answersPerUser, turns, contextSize: CONTEXT, councilEnv: Object.fromEntries(Object.entries(councilEnv).filter(([key]) => !["COUNCIL_DATA_DIR", "COUNCIL_KB_DIR", "COUNCIL_LLAMA_SERVER_URL"].includes(key))) },
    sections: results,
    summary: { checks: results.flatMap((s) => s.checks).length, met: results.flatMap((s) => s.checks).filter((c) => c.met).length, failedSections: results.filter((s) => s.error !== undefined).map((s) => s.section) },
  };
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, `perf-real-size-${basename(model, ".gguf")}-${date.slice(0, 10)}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  return { report, file };
}
