/**
 * `npx tsx bench/lora-vs-full.ts --real-size [--model <q8_0 gguf>] [--pairs 24] [--ctx 256] [--threads 2] [--keep-f32]
 *   [--full-first] [--tag <suffix of the result file>]`:
 * LoRA training vs llama.cpp's full fine-tune at real size (issue #14 item 4), side by side in one run on one random
 * Qwen2.5-0.5B-shaped `qwen2` model (made with `npx council bench perf --make-model`'s generator when --model is
 * absent), same data, context and threads, a few optimizer steps each:
 * - LoRA: the native trainer on the Q8_0 base, the way the nightly loop trains (rank, alpha, learning rate and
 *   targets from the config, targets chosen per base: the tied output head is skipped);
 * - full fine-tune: `llama-finetune` on the same weights dequantized to F32 by the project's GGUF writer
 *   (llama-finetune trains only F32 tensors: `llama_set_param` in llama-context.cpp skips every other type, so on
 *   an F16 or Q8_0 file it would train norms and biases only; it never trains token_embd, which Qwen2.5-0.5B's
 *   output head shares).
 * Writes bench/results/lora-vs-full-<date>-0.5b[-<tag>].json (date, machine, load average, order, numbers).
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { cpus, hostname, loadavg, platform, release, totalmem } from "node:os";
import { join } from "node:path";
import { loadConfig, PROJECT_ROOT } from "../core/index.js";
import { dequantizeQ8_0, GGML_TYPE_F32, GGML_TYPE_Q8_0, readGguf, readTensorBytes, readTensorF32, writeGguf, type GgufKv, type GgufTensorInput } from "../models/gguf/index.js";
import { renderExample } from "../models/index.js";
import { chooseLoraTargets } from "../training/index.js";
import { loadTldrPairs } from "../training/testing/tldr-pairs.js";
import { parameterCount, QWEN2_5_0_5B_SHAPE, writeRandomQwen2Model } from "./perf/random-model.js";
import { countTokens, flag, fullFinetune, lora } from "./lora-vs-full-runs.js";

const TLDR = join(PROJECT_ROOT, "..", "shared", "datasets", "tldr", "pages", "common");
const SCRATCH = join(PROJECT_ROOT, "bench", "scratch");
const MiB = 2 ** 20;

function stringFlag(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

/** MemAvailable from /proc/meminfo, in bytes. */
function availableMemory(): number {
  const match = /MemAvailable:\s+(\d+) kB/.exec(readFileSync("/proc/meminfo", "utf8"));
  return match === null ? 0 : Number(match[1]) * 1024;
}

/** The same weights as `source` (Q8_0 2-D tensors, F32 norms and biases) written all F32, one tensor in memory at a time. */
export async function writeF32Copy(source: string, path: string): Promise<{ bytes: number; seconds: number }> {
  const started = performance.now();
  const file = readGguf(source);
  const tensors: GgufTensorInput[] = file.tensors.map((tensor) => {
    if (tensor.type === GGML_TYPE_Q8_0) return { name: tensor.name, dims: tensor.dims, data: () => dequantizeQ8_0(readTensorBytes(file, tensor.name)) };
    if (tensor.type === GGML_TYPE_F32) return { name: tensor.name, dims: tensor.dims, data: () => readTensorF32(file, tensor.name) };
    throw new Error(`${source}: tensor ${tensor.name} is ${tensor.typeName}; only Q8_0 and F32 are copied`);
  });
  const kv: GgufKv[] = file.kv.map((entry) => (entry.key === "general.file_type" ? { key: entry.key, type: "u32", value: 0 } : entry)); // LLAMA_FTYPE_ALL_F32
  const written = await writeGguf({ path, kv, tensors });
  return { bytes: written.bytes, seconds: (performance.now() - started) / 1000 };
}

export async function runRealSize(): Promise<void> {
  const pairsCount = flag("pairs", 24);
  const ctx = flag("ctx", 256);
  const threads = flag("threads", 2);
  await mkdir(SCRATCH, { recursive: true });
  const load: { start: number[]; end?: number[] } = { start: loadavg() };
  const model = stringFlag("model") ?? join(SCRATCH, "qwen2.5-0.5b-shaped-q8_0.gguf");
  let made: { seconds: number } | undefined;
  if (!existsSync(model)) {
    console.log(`writing ${model} …`);
    made = await writeRandomQwen2Model({ path: model });
  }
  const f32 = join(SCRATCH, "qwen2.5-0.5b-shaped-f32.gguf");
  console.log(`writing the F32 copy ${f32} …`);
  const copy = await writeF32Copy(model, f32);
  console.log(`F32 copy: ${(copy.bytes / MiB).toFixed(0)} MiB in ${copy.seconds.toFixed(0)} s`);

  const pairs = await loadTldrPairs({ dir: TLDR, count: pairsCount, perPage: 2, maxAnswerChars: 60 });
  const rendered = pairs.map((pair) => renderExample([{ role: "user", content: pair.question }], pair.answer));
  const jsonl = join(SCRATCH, "lora-vs-full-0.5b.jsonl");
  const text = join(SCRATCH, "lora-vs-full-0.5b.txt");
  await writeFile(jsonl, rendered.map((row) => JSON.stringify(row)).join("\n") + "\n");
  const plain = rendered.map((row) => row.prompt + row.completion).join("\n\n");
  await writeFile(text, plain);
  const textTokens = await countTokens(model, plain);

  const training = loadConfig().training;
  const base = readGguf(model);
  const { targets, skipped } = chooseLoraTargets({ requested: training.targets, tensorNames: base.tensors.filter((t) => t.dims.length === 2).map((t) => t.name), architecture: String(base.metadata.get("general.architecture")) });
  console.log(`${pairs.length} pairs, ${textTokens} tokens; ctx ${ctx}, ${threads} threads; LoRA rank ${training.rank}, alpha ${training.alpha}, lr ${training.learningRate}, targets ${targets.join(",")} (skipped ${skipped.join(",") || "none"})`);

  const runLora = async () => {
    const measured = await lora({ base: model, data: jsonl, out: join(SCRATCH, "lora-0.5b.gguf"), epochs: 1, ctx, threads, rank: training.rank, alpha: training.alpha, lr: training.learningRate, targets });
    console.log(`LoRA (Q8_0):    ${measured.tokensPerCpuSecond.toFixed(1)} tok/CPU-s, ${measured.wallSeconds.toFixed(0)} s wall (train ${measured.trainSeconds.toFixed(0)} s), peak RSS ${(measured.peakRssBytes / MiB).toFixed(0)} MiB, ${measured.tokens} tokens, loss ${measured.lossCurve.map((l) => l.toFixed(3)).join(" → ")}`);
    return measured;
  };
  const runFull = async () => {
    const availableBeforeFull = availableMemory();
    const needed = copy.bytes * 4 + 2 * 2 ** 30; // weights, gradients, two AdamW moments, + activations and logits
    console.log(`MemAvailable before the full fine-tune: ${(availableBeforeFull / 2 ** 30).toFixed(1)} GiB (estimated need ${(needed / 2 ** 30).toFixed(1)} GiB)`);
    if (availableBeforeFull < needed) throw new Error(`not enough free memory for the full fine-tune: ${(availableBeforeFull / 2 ** 30).toFixed(1)} GiB available, about ${(needed / 2 ** 30).toFixed(1)} GiB needed`);
    const measured = await fullFinetune({ base: f32, text, out: join(SCRATCH, "full-0.5b.gguf"), epochs: 1, ctx, threads, tokens: textTokens });
    console.log(`full FT (F32):  ${measured.tokensPerCpuSecond.toFixed(1)} tok/CPU-s, ${measured.wallSeconds.toFixed(0)} s wall, peak RSS ${(measured.peakRssBytes / MiB).toFixed(0)} MiB, ${measured.tokens} tokens (${measured.datapoints} windows)`);
    return { ...measured, availableBeforeFull };
  };
  const fullFirst = process.argv.includes("--full-first");
  let loraRun: Awaited<ReturnType<typeof runLora>>;
  let fullRun: Awaited<ReturnType<typeof runFull>>;
  if (fullFirst) {
    fullRun = await runFull();
    loraRun = await runLora();
  } else {
    loraRun = await runLora();
    fullRun = await runFull();
  }
  const availableBeforeFull = fullRun.availableBeforeFull;
  load.end = loadavg();

  const speedup = loraRun.tokensPerCpuSecond / fullRun.tokensPerCpuSecond;
  const memoryReduction = fullRun.peakRssBytes / loraRun.peakRssBytes;
  const date = new Date().toISOString();
  const result = {
    bench: "lora-vs-full",
    mode: "real-size",
    date,
    machine: { hostname: hostname(), platform: `${platform()} ${release()}`, cpu: cpus()[0]?.model, cores: cpus().length, memoryBytes: totalmem(), threadsUsed: threads },
    load,
    model: { q8_0: model, f32, shape: QWEN2_5_0_5B_SHAPE, parameters: parameterCount(QWEN2_5_0_5B_SHAPE), madeSeconds: made?.seconds, f32Bytes: copy.bytes, f32CopySeconds: copy.seconds },
    data: { pairs: pairs.length, textTokens, ctx, epochs: 1 },
    order: fullFirst ? "full fine-tune first" : "LoRA first",
    lora: { base: "Q8_0", rank: training.rank, alpha: training.alpha, learningRate: training.learningRate, targets, skipped, tokensPerCpuSecond: loraRun.tokensPerCpuSecond, cpuSeconds: loraRun.cpuSeconds, tokensPerSecond: loraRun.tokensPerSecond, wallSeconds: loraRun.wallSeconds, trainSeconds: loraRun.trainSeconds, tokens: loraRun.tokens, steps: loraRun.tokens / Math.max(ctx, 256), peakRssBytes: loraRun.peakRssBytes, trainableParams: loraRun.trainableParams, lossCurve: loraRun.lossCurve },
    full: { base: "F32", learningRate: 1e-4, tokensPerCpuSecond: fullRun.tokensPerCpuSecond, cpuSeconds: fullRun.cpuSeconds, tokensPerSecond: fullRun.tokensPerSecond, wallSeconds: fullRun.wallSeconds, tokens: fullRun.tokens, steps: fullRun.datapoints, peakRssBytes: fullRun.peakRssBytes, memAvailableBeforeBytes: availableBeforeFull },
    ratios: { speedup, wallSpeedup: loraRun.tokensPerSecond / fullRun.tokensPerSecond, memoryReduction, targets: { speedup: 2, memoryReduction: 3 }, met: { speedup: speedup >= 2, memoryReduction: memoryReduction >= 3 } },
    notes: "tokens = positions trained (windows × ctx; LoRA windows pack whole examples and pad, llama-finetune windows overlap by ctx/2); CPU seconds and peak RSS of the whole process (model load included) from /usr/bin/time",
  };
  console.log(`tokens/CPU-s ×${speedup.toFixed(2)} (target ≥ 2: ${speedup >= 2 ? "met" : "not met"}), peak RSS ÷${memoryReduction.toFixed(2)} (target ≥ 3: ${memoryReduction >= 3 ? "met" : "not met"})`);
  const dir = join(PROJECT_ROOT, "bench", "results");
  await mkdir(dir, { recursive: true });
  const tag = stringFlag("tag");
  const file = join(dir, `lora-vs-full-${date.slice(0, 10)}-0.5b${tag !== undefined ? `-${tag}` : ""}.json`);
  await writeFile(file, JSON.stringify(result, null, 2) + "\n");
  console.log(`wrote ${file}`);
  if (!process.argv.includes("--keep-f32")) await rm(f32, { force: true });
  await rm(join(SCRATCH, "full-0.5b.gguf"), { force: true });
}
