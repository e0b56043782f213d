/**
 * LoRA trainer (native/lora-train) vs llama.cpp's full fine-tune (llama-finetune) on the same base and data,
 * in one run: tokens/s and peak RSS side by side, the effect of prompt masking, and a projection of training
 * time for a 1 B-parameter llama on this machine.
 *
 *   npx tsx bench/lora-vs-full.ts [--pairs 60] [--epochs 1] [--ctx 256] [--threads 2] [--no-scale]
 *     [--scale-embedding 768] [--scale-layers 4] [--scale-ff 2048]   (the projection's larger random llama)
 *
 * Writes bench/results/lora-vs-full-<date>.json (date, machine, numbers).
 *
 *   npx tsx bench/lora-vs-full.ts --real-size [--model <q8_0 gguf>] [--pairs 24] [--ctx 256]
 *     the same comparison on a random Qwen2.5-0.5B-shaped qwen2 model (see lora-vs-full-real-size.ts)
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, hostname, loadavg, platform, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { PROJECT_ROOT, SEEDLING_PATH } from "../core/index.js";
import { renderExample } from "../models/index.js";
import { llamaParameterCount, writeLlamaModel, type LlamaShape } from "../models/seedling/index.js";
import { buildSpmVocab, SPM_SPACE } from "../models/tokenizer/index.js";
import { loadTldrPairs } from "../training/testing/tldr-pairs.js";
import { runRealSize } from "./lora-vs-full-real-size.js";
import { countTokens, FINETUNE, flag, fullFinetune, lora, LORA_TRAINER_BINARY } from "./lora-vs-full-runs.js";

const TLDR = join(PROJECT_ROOT, "..", "shared", "datasets", "tldr", "pages", "common");

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

if (process.argv.includes("--real-size")) await runRealSize();
else await main();
