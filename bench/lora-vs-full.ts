/**
 * LoRA trainer (native/lora-train) vs llama.cpp's full fine-tune (llama-finetune) on the same base and data,
 * in one run: tokens/s and peak RSS side by side, the effect of prompt masking, and a projection of training
 * time for a 1 B-parameter llama on this machine.
 *
 *   npx tsx bench/lora-vs-full.ts [--pairs 60] [--epochs 1] [--ctx 256] [--threads 2] [--no-scale]
 *     [--scale-embedding 768] [--scale-layers 4] [--scale-ff 2048]   (the projection's larger random llama)
 *
 * Writes bench/results/lora-vs-full-<date>.json (date, machine, numbers).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, hostname, loadavg, platform, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { NATIVE_BUILD_DIR, PROJECT_ROOT, SEEDLING_PATH } from "../core/index.js";
import { renderExample } from "../models/index.js";
import { llamaParameterCount, writeLlamaModel, type LlamaShape } from "../models/seedling/index.js";
import { buildSpmVocab, SPM_SPACE } from "../models/tokenizer/index.js";
import { LORA_TRAINER_BINARY } from "../training/index.js";
import { loadTldrPairs } from "../training/testing/tldr-pairs.js";

const run = promisify(execFile);
const FINETUNE = [join(NATIVE_BUILD_DIR, "bin", "llama-finetune"), join(NATIVE_BUILD_DIR, "llama.cpp", "build", "bin", "llama-finetune")].find((path) => existsSync(path)) ?? join(NATIVE_BUILD_DIR, "bin", "llama-finetune");
const TLDR = join(PROJECT_ROOT, "..", "shared", "datasets", "tldr", "pages", "common");

function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

interface Measured {
  wallSeconds: number;
  /** user + system CPU seconds: the fair clock on a shared machine */
  cpuSeconds: number;
  peakRssBytes: number;
  tokens: number;
  tokensPerSecond: number;
  tokensPerCpuSecond: number;
  stdout: string;
}

/** Runs a command under /usr/bin/time: wall seconds and peak RSS of the process. */
async function timed(command: string, args: string[]): Promise<{ wallSeconds: number; cpuSeconds: number; peakRssBytes: number; stdout: string; stderr: string }> {
  const { stdout, stderr } = await run("/usr/bin/time", ["-f", "TIME %e %M %U %S", command, ...args], { maxBuffer: 256 * 1024 * 1024 });
  const match = /TIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
  if (match === null) throw new Error(`no /usr/bin/time line in stderr of ${command}`);
  return { wallSeconds: Number(match[1]), peakRssBytes: Number(match[2]) * 1024, cpuSeconds: Number(match[3]) + Number(match[4]), stdout, stderr };
}

async function lora(options: { base: string; data: string; out: string; epochs: number; ctx: number; threads: number; rank?: number; mask?: boolean; lr?: number }): Promise<Measured & { lossCurve: number[]; trainSeconds: number; trainableParams: number }> {
  const args = ["--model", options.base, "--data", options.data, "--out", options.out, "--epochs", String(options.epochs), "--ctx", String(options.ctx), "--threads", String(options.threads), "--rank", String(options.rank ?? 16), "--alpha", String(2 * (options.rank ?? 16)), "--lr", String(options.lr ?? 3e-3)];
  if (options.mask === false) args.push("--no-mask");
  const result = await timed(LORA_TRAINER_BINARY, args);
  const events = result.stdout.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Record<string, unknown>);
  const done = events.find((event) => event.event === "done") as { tokens: number; trainSeconds: number; trainableParams: number; epochs: Array<{ loss: number }> } | undefined;
  if (done === undefined) throw new Error(`LoRA trainer did not finish: ${result.stdout.slice(-500)} ${result.stderr.slice(-500)}`);
  return { ...result, tokens: done.tokens, tokensPerSecond: done.tokens / result.wallSeconds, tokensPerCpuSecond: done.tokens / result.cpuSeconds, lossCurve: done.epochs.map((e) => e.loss), trainSeconds: done.trainSeconds, trainableParams: done.trainableParams };
}

async function fullFinetune(options: { base: string; text: string; out: string; epochs: number; ctx: number; threads: number; tokens: number }): Promise<Measured & { datapoints: number }> {
  const result = await timed(FINETUNE, ["-m", options.base, "-f", options.text, "-c", String(options.ctx), "-b", String(options.ctx), "-ub", String(options.ctx), "--epochs", String(options.epochs), "-t", String(options.threads), "-o", options.out, "-lr", "1e-4", "-val-split", "0", "-ngl", "0"]);
  // common_opt_dataset_init: windows of ctx tokens with stride ctx/2 over the tokenized text
  const datapoints = Math.floor((options.tokens - options.ctx - 1) / (options.ctx / 2));
  const tokens = datapoints * options.ctx * options.epochs;
  return { ...result, datapoints, tokens, tokensPerSecond: tokens / result.wallSeconds, tokensPerCpuSecond: tokens / result.cpuSeconds };
}

async function countTokens(model: string, text: string): Promise<number> {
  const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
  try {
    const loaded = await llama.loadModel({ modelPath: model, vocabOnly: true });
    const count = loaded.tokenize(text).length + 1; // + BOS, as common_tokenize adds it
    await loaded.dispose();
    return count;
  } finally {
    await llama.dispose();
  }
}

async function main(): Promise<void> {
  const pairsCount = flag("pairs", 60);
  const epochs = flag("epochs", 1);
  const ctx = flag("ctx", 256);
  const threads = flag("threads", 2);
  const scale = !process.argv.includes("--no-scale");
  for (const binary of [LORA_TRAINER_BINARY, FINETUNE]) if (!existsSync(binary)) throw new Error(`${binary} is missing: run npm run setup`);
  const scratch = await mkdtemp(join(tmpdir(), "council-bench-lora-"));
  try {
    const base = existsSync(SEEDLING_PATH) ? SEEDLING_PATH : await tinyBase(scratch);
    const pairs = await loadTldrPairs({ dir: TLDR, count: pairsCount, perPage: 2, maxAnswerChars: 60 });
    const rendered = pairs.map((pair) => renderExample([{ role: "user", content: pair.question }], pair.answer));
    const jsonl = join(scratch, "data.jsonl");
    const text = join(scratch, "data.txt");
    await writeFile(jsonl, rendered.map((row) => JSON.stringify(row)).join("\n") + "\n");
    const plain = rendered.map((row) => row.prompt + row.completion).join("\n\n");
    await writeFile(text, plain);
    const textTokens = await countTokens(base, plain);
    console.log(`base ${base}; ${pairs.length} pairs, ${textTokens} tokens; ctx ${ctx}, ${epochs} epochs, ${threads} threads`);

    const loraRun = await lora({ base, data: jsonl, out: join(scratch, "lora.gguf"), epochs, ctx, threads });
    console.log(`LoRA:      ${loraRun.tokensPerCpuSecond.toFixed(0)} tok/CPU-s, ${loraRun.tokensPerSecond.toFixed(0)} tok/s (wall), peak RSS ${(loraRun.peakRssBytes / 2 ** 20).toFixed(0)} MiB, loss ${loraRun.lossCurve.map((l) => l.toFixed(3)).join(" → ")}`);
    const fullRun = await fullFinetune({ base, text, out: join(scratch, "full.gguf"), epochs, ctx, threads, tokens: textTokens });
    console.log(`full FT:   ${fullRun.tokensPerCpuSecond.toFixed(0)} tok/CPU-s, ${fullRun.tokensPerSecond.toFixed(0)} tok/s (wall), peak RSS ${(fullRun.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);

    // masking: same run with the prompt in the loss (answer loss is what the masked run optimises)
    const unmasked = await lora({ base, data: jsonl, out: join(scratch, "lora-unmasked.gguf"), epochs, ctx, threads, mask: false });

    let projection: Record<string, unknown> | undefined;
    if (scale) projection = await project({ scratch, ctx, threads });

    const result = {
      bench: "lora-vs-full",
      date: new Date().toISOString(),
      machine: { hostname: hostname(), platform: `${platform()} ${release()}`, cpu: cpus()[0]?.model, cores: cpus().length, memoryBytes: totalmem(), threadsUsed: threads },
      base: { path: base, params: (await paramsOf(base)) },
      data: { pairs: pairs.length, textTokens, ctx, epochs },
      lora: { tokensPerCpuSecond: loraRun.tokensPerCpuSecond, cpuSeconds: loraRun.cpuSeconds, tokensPerSecond: loraRun.tokensPerSecond, wallSeconds: loraRun.wallSeconds, trainSeconds: loraRun.trainSeconds, tokens: loraRun.tokens, peakRssBytes: loraRun.peakRssBytes, trainableParams: loraRun.trainableParams, lossCurve: loraRun.lossCurve },
      full: { tokensPerCpuSecond: fullRun.tokensPerCpuSecond, cpuSeconds: fullRun.cpuSeconds, tokensPerSecond: fullRun.tokensPerSecond, wallSeconds: fullRun.wallSeconds, tokens: fullRun.tokens, datapoints: fullRun.datapoints, peakRssBytes: fullRun.peakRssBytes },
      ratios: { speedup: loraRun.tokensPerCpuSecond / fullRun.tokensPerCpuSecond, wallSpeedup: loraRun.tokensPerSecond / fullRun.tokensPerSecond, load: loadavg(), memoryReduction: fullRun.peakRssBytes / loraRun.peakRssBytes, targets: { speedup: 2, memoryReduction: 3 } },
      masking: { maskedAnswerLoss: loraRun.lossCurve, unmaskedLoss: unmasked.lossCurve, note: "masked: loss over answer tokens only (prompt rows get zero gradient); unmasked: --no-mask, loss over all tokens" },
      projection,
    };
    console.log(`speed-up ×${result.ratios.speedup.toFixed(2)} (target ×2), memory ÷${result.ratios.memoryReduction.toFixed(2)} (target ÷3)`);
    const dir = join(PROJECT_ROOT, "bench", "results");
    await mkdir(dir, { recursive: true });
    const file = join(dir, `lora-vs-full-${result.date.slice(0, 10)}.json`);
    await writeFile(file, JSON.stringify(result, null, 2) + "\n");
    console.log(`wrote ${file}`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function paramsOf(model: string): Promise<number> {
  const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
  try {
    const loaded = await llama.loadModel({ modelPath: model, vocabOnly: true });
    const info = loaded.fileInsights.totalParameters ?? 0;
    await loaded.dispose();
    return Number(info);
  } catch {
    return 0; // parameter count is informative only
  } finally {
    await llama.dispose();
  }
}

function smallVocab() {
  const pieces = [SPM_SPACE];
  for (let code = 0x21; code < 0x7f; code++) pieces.push(String.fromCharCode(code));
  return buildSpmVocab(pieces);
}

async function tinyBase(dir: string): Promise<string> {
  const path = join(dir, "bench-base.gguf");
  await writeLlamaModel({ path, name: "bench-base", shape: { embedding: 256, layers: 4, heads: 8, feedForward: 704, contextLength: 512 }, vocab: smallVocab(), seed: 1 });
  return path;
}

/**
 * A larger random llama (most parameters in the transformer blocks, like a 1 B model), one epoch of each
 * trainer; CPU time per token scales with the block parameters, so tokens/s × (params / 1.24 B) projects
 * a Llama-3.2-1B-sized model (1.24 B params, 16 layers of 2048).
 */
async function project({ scratch, ctx, threads }: { scratch: string; ctx: number; threads: number }): Promise<Record<string, unknown>> {
  const embedding = flag("scale-embedding", 768);
  if (!Number.isInteger(embedding / 64) || embedding <= 0) throw new Error(`--scale-embedding must be a positive multiple of 64 (heads of 64), got ${embedding}`);
  const shape: LlamaShape = { embedding, layers: flag("scale-layers", 4), heads: embedding / 64, feedForward: flag("scale-ff", 2048), contextLength: 512 };
  const vocab = smallVocab();
  const path = join(scratch, "scale.gguf");
  await writeLlamaModel({ path, name: "bench-scale", shape, vocab, seed: 2 });
  const params = llamaParameterCount(shape, vocab.tokens.length);
  const pairs = await loadTldrPairs({ dir: TLDR, count: 8, perPage: 1, maxAnswerChars: 60 });
  const rendered = pairs.map((pair) => renderExample([{ role: "user", content: pair.question }], pair.answer));
  const jsonl = join(scratch, "scale.jsonl");
  const text = join(scratch, "scale.txt");
  await writeFile(jsonl, rendered.map((row) => JSON.stringify(row)).join("\n") + "\n");
  const plain = rendered.map((row) => row.prompt + row.completion).join("\n\n");
  await writeFile(text, plain);
  const textTokens = await countTokens(path, plain);
  const scaleCtx = Math.max(ctx, 256);
  const loraRun = await lora({ base: path, data: jsonl, out: join(scratch, "scale-lora.gguf"), epochs: 1, ctx: scaleCtx, threads });
  const fullRun = await fullFinetune({ base: path, text, out: join(scratch, "scale-full.gguf"), epochs: 1, ctx: scaleCtx, threads, tokens: textTokens });
  const oneB = 1.24e9;
  // per CPU-second × the machine's cores = what a dedicated machine sustains
  const cores = cpus().length;
  const loraTps = loraRun.tokensPerCpuSecond * cores * (params / oneB);
  const fullTps = fullRun.tokensPerCpuSecond * cores * (params / oneB);
  const workload = { examples: 1000, tokensPerExample: 128, epochs: 3 };
  const tokens = workload.examples * workload.tokensPerExample * workload.epochs;
  const result = {
    scaleModel: { shape, params, loraTokensPerCpuSecond: loraRun.tokensPerCpuSecond, fullTokensPerCpuSecond: fullRun.tokensPerCpuSecond, loraPeakRssBytes: loraRun.peakRssBytes, fullPeakRssBytes: fullRun.peakRssBytes, speedup: loraRun.tokensPerCpuSecond / fullRun.tokensPerCpuSecond, memoryReduction: fullRun.peakRssBytes / loraRun.peakRssBytes },
    oneB: {
      params: oneB,
      loraTokensPerSecond: loraTps,
      fullTokensPerSecond: fullTps,
      workload,
      loraHours: tokens / loraTps / 3600,
      fullHours: tokens / fullTps / 3600,
      // F32 weights 4 B/param; full fine-tune adds gradients and two AdamW moments (×4); LoRA adds only its A/B state
      loraMemoryGiBFloor: (oneB * 4) / 2 ** 30,
      fullMemoryGiBFloor: (oneB * 16) / 2 ** 30,
      method: "tokens per CPU-second on the scale model × cores × (scale params / 1.24e9); memory floors from parameter bytes",
    },
  };
  console.log(`1B projection: LoRA ${loraTps.toFixed(1)} tok/s → ${result.oneB.loraHours.toFixed(1)} h for ${tokens} tokens; full ${fullTps.toFixed(1)} tok/s → ${result.oneB.fullHours.toFixed(1)} h`);
  return result;
}

await main();
