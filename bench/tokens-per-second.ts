/**
 * Tokens/s of Council's `llama` backend (LlamaChatModel on node-llama-cpp, streamed through LangChain)
 * against llama.cpp's own `llama-completion` (native/build/bin, built by `npm run setup`), side by side in one
 * run: the same GGUF (the seedling), the same prompt (rendered with the shared template), the same threads,
 * the same token count (EOS ignored on both sides), greedy sampling. Runs alternate between the two so a
 * change in machine load hits both. Reported per side (median of runs):
 *   - decode tokens/s: generated tokens after the first / time from the first to the last token
 *     (llama-completion: its own `eval time` line) — the headline, target ratio ≥ 0.8;
 *   - end-to-end tokens/s: generated tokens / (prompt processing + generation), model load excluded.
 *
 *   npx tsx bench/tokens-per-second.ts [--model models/seedling.gguf] [--threads 2] [--tokens 128] [--runs 5]
 *     [--binary native/build/bin/llama-completion] [--out bench/results]
 *
 * Writes bench/results/tokens-per-second-<model>-<date>.json (date, machine, load average, every run).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg, platform, release, totalmem } from "node:os";
import { basename, join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import { NATIVE_BUILD_DIR, PROJECT_ROOT, SEEDLING_PATH } from "../core/index.js";
import { LlamaChatModel, renderPrompt } from "../models/index.js";

const execFileAsync = promisify(execFile);

const { values } = parseArgs({
  options: {
    model: { type: "string", default: SEEDLING_PATH },
    // One thread by default: on a shared machine whose cores are busy, more threads than free cores make ggml's
    // spinning thread barriers collapse (measured: 600 tok/s at 1 thread vs 2 tok/s at 2 under load 12 on 2 cores).
    threads: { type: "string", default: "1" },
    tokens: { type: "string", default: "128" },
    runs: { type: "string", default: "5" },
    binary: { type: "string", default: join(NATIVE_BUILD_DIR, "bin", "llama-completion") },
    out: { type: "string", default: join(PROJECT_ROOT, "bench", "results") },
  },
});
const MODEL = values.model;
const THREADS = Number(values.threads);
const TOKENS = Number(values.tokens);
const RUNS = Number(values.runs);
const BINARY = values.binary;
const CONTEXT = 512;

const QUESTION = "How do I reset a forgotten password for a local user account on Linux?";
/** Each run's prompt starts differently, so neither side reuses a cached prompt from the run before. */
const systemFor = (run: number) => `Ticket ${run}. You are an IT helpdesk assistant. Answer with the exact steps.`;
const promptFor = (run: number) =>
  renderPrompt([
    { role: "system", content: systemFor(run) },
    { role: "user", content: QUESTION },
  ]);

interface Sample {
  tokens: number;
  decodeTokensPerSecond: number;
  endToEndTokensPerSecond: number;
  promptTokens: number;
  text: string;
}

async function councilRun(model: LlamaChatModel, run: number): Promise<Sample> {
  const t0 = performance.now();
  let first: number | undefined;
  let last = t0;
  let text = "";
  let tokens = 0;
  let promptTokens = 0;
  const stream = await model.stream([new SystemMessage(systemFor(run)), new HumanMessage(QUESTION)], { maxTokens: TOKENS, ignoreEos: true, temperature: 0 });
  for await (const chunk of stream) {
    if (chunk.usage_metadata) {
      tokens = chunk.usage_metadata.output_tokens;
      promptTokens = chunk.usage_metadata.input_tokens;
    }
    if (chunk.content === "") continue;
    const now = performance.now();
    first ??= now;
    last = now;
    text += chunk.content as string;
  }
  if (first === undefined || tokens < 2) throw new Error(`the llama backend generated ${tokens} tokens`);
  return {
    tokens,
    decodeTokensPerSecond: (tokens - 1) / ((last - first) / 1000),
    endToEndTokensPerSecond: tokens / ((last - t0) / 1000),
    promptTokens,
    text,
  };
}

/** llama.cpp logs timings from a logger thread that can lose the last lines at exit: retry such a run. */
async function nativeRun(run: number): Promise<Sample> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await nativeRunOnce(run);
    } catch (error) {
      if (attempt >= 3 || !(error instanceof Error) || !error.message.startsWith("could not read")) throw error;
    }
  }
}

async function nativeRunOnce(run: number): Promise<Sample> {
  const args = ["-m", MODEL, "-p", promptFor(run), "-n", String(TOKENS), "-t", String(THREADS), "-tb", String(THREADS), "-c", String(CONTEXT), "--temp", "0", "--ignore-eos", "--no-warmup", "-no-cnv", "--no-display-prompt"];
  const { stdout, stderr } = await execFileAsync(BINARY, args, { maxBuffer: 64 << 20, timeout: 600_000 });
  const evalLine = /eval time\s*=\s*([\d.]+) ms\s*\/\s*(\d+) runs/.exec(stderr.split("\n").find((line) => /\beval time/.test(line) && !/prompt eval/.test(line)) ?? "");
  const promptLine = /prompt eval time\s*=\s*([\d.]+) ms\s*\/\s*(\d+) tokens/.exec(stderr);
  if (!evalLine || !promptLine) throw new Error(`could not read llama-completion's timings:\n${stderr.slice(-2000)}`);
  const evalMs = Number(evalLine[1]);
  const evalRuns = Number(evalLine[2]);
  const promptMs = Number(promptLine[1]);
  // llama.cpp samples the first token from the prompt pass, then runs one eval per further token.
  const tokens = evalRuns + 1;
  return {
    tokens,
    decodeTokensPerSecond: evalRuns / (evalMs / 1000),
    endToEndTokensPerSecond: tokens / ((promptMs + evalMs) / 1000),
    promptTokens: Number(promptLine[2]),
    text: stdout,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function main(): Promise<void> {
  if (!existsSync(MODEL)) throw new Error(`model ${MODEL} is missing: run \`npx council seedling build\` (or pass --model <gguf>)`);
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run \`npm run setup\``);
  const loadBefore = loadavg();
  const model = await LlamaChatModel.create({ modelPath: MODEL, threads: THREADS, contextSize: CONTEXT, parallel: 1 });
  const council: Sample[] = [];
  const native: Sample[] = [];
  try {
    await councilRun(model, 0); // warm-up (llama-completion warms up inside each process)
    for (let index = 0; index < RUNS; index++) {
      native.push(await nativeRun(index + 1));
      council.push(await councilRun(model, index + 1));
      console.log(
        `run ${index + 1}/${RUNS}: council ${council.at(-1)!.decodeTokensPerSecond.toFixed(1)} tok/s, llama-completion ${native.at(-1)!.decodeTokensPerSecond.toFixed(1)} tok/s (decode)`,
      );
    }
  } finally {
    await model.dispose();
  }
  const summary = (samples: Sample[]) => ({
    tokens: samples[0]!.tokens,
    promptTokens: samples[0]!.promptTokens,
    decodeTokensPerSecond: median(samples.map((sample) => sample.decodeTokensPerSecond)),
    endToEndTokensPerSecond: median(samples.map((sample) => sample.endToEndTokensPerSecond)),
    runs: samples.map(({ text: _text, ...rest }) => rest),
  });
  const councilSummary = summary(council);
  const nativeSummary = summary(native);
  const decodeRatio = councilSummary.decodeTokensPerSecond / nativeSummary.decodeTokensPerSecond;
  const endToEndRatio = councilSummary.endToEndTokensPerSecond / nativeSummary.endToEndTokensPerSecond;
  const sameText = native[0]!.text.trim().startsWith(council[0]!.text.trim().slice(0, 40));
  const result = {
    benchmark: "tokens-per-second",
    date: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      os: `${platform()} ${release()}`,
      node: process.version,
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadavg(),
    },
    setup: { model: MODEL, threads: THREADS, tokens: TOKENS, runs: RUNS, contextSize: CONTEXT, sampling: "greedy (temperature 0), EOS ignored", prompt: promptFor(1) },
    council: { backend: "LlamaChatModel (node-llama-cpp 3.22.1, LangChain stream)", ...councilSummary },
    llamaCompletion: { binary: BINARY, ...nativeSummary },
    decodeRatio,
    endToEndRatio,
    target: { decodeRatio: 0.8, met: decodeRatio >= 0.8 },
    sameGreedyTextPrefix: sameText,
  };
  await mkdir(values.out, { recursive: true });
  const file = join(values.out, `tokens-per-second-${basename(MODEL, ".gguf")}-${result.date.slice(0, 10)}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(
    `\ndecode tok/s: council ${councilSummary.decodeTokensPerSecond.toFixed(1)} vs llama-completion ${nativeSummary.decodeTokensPerSecond.toFixed(1)}  ratio ${decodeRatio.toFixed(3)} (target ≥ 0.8)`,
  );
  console.log(
    `end-to-end tok/s: council ${councilSummary.endToEndTokensPerSecond.toFixed(1)} vs llama-completion ${nativeSummary.endToEndTokensPerSecond.toFixed(1)}  ratio ${endToEndRatio.toFixed(3)}`,
  );
  console.log(`same greedy text prefix: ${sameText}\nwrote ${file}`);
}

await main();
