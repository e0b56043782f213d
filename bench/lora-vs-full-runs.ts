/**
 * The two trainers of bench/lora-vs-full.ts as timed child processes: the native LoRA trainer
 * (native/lora-train, `council-lora-train`) and llama.cpp's full fine-tune (`llama-finetune`), each under
 * /usr/bin/time for CPU seconds and peak RSS.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { NATIVE_BUILD_DIR } from "../core/index.js";
import { LORA_TRAINER_BINARY } from "../training/index.js";

const run = promisify(execFile);

export { LORA_TRAINER_BINARY };
export const FINETUNE = [join(NATIVE_BUILD_DIR, "bin", "llama-finetune"), join(NATIVE_BUILD_DIR, "llama.cpp", "build", "bin", "llama-finetune")].find((path) => existsSync(path)) ?? join(NATIVE_BUILD_DIR, "bin", "llama-finetune");

export function flag(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

export interface Measured {
  wallSeconds: number;
  /** user + system CPU seconds: the fair clock on a shared machine */
  cpuSeconds: number;
  peakRssBytes: number;
  tokens: number;
  tokensPerSecond: number;
  tokensPerCpuSecond: number;
  stdout: string;
  stderr: string;
}

/** Runs a command under /usr/bin/time: wall seconds and peak RSS of the process. */
export async function timed(command: string, args: string[]): Promise<{ wallSeconds: number; cpuSeconds: number; peakRssBytes: number; stdout: string; stderr: string }> {
  const { stdout, stderr } = await run("/usr/bin/time", ["-f", "TIME %e %M %U %S", command, ...args], { maxBuffer: 256 * 1024 * 1024 }).catch((error: Error & { stdout?: string; stderr?: string }) => {
    throw new Error(`${command} failed: ${error.message.slice(0, 300)}\n${(error.stderr ?? "").slice(-2000)}`, { cause: error });
  });
  const match = /TIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
  if (match === null) throw new Error(`no /usr/bin/time line in stderr of ${command}`);
  return { wallSeconds: Number(match[1]), peakRssBytes: Number(match[2]) * 1024, cpuSeconds: Number(match[3]) + Number(match[4]), stdout, stderr };
}

export interface LoraRunOptions {
  base: string;
  data: string;
  out: string;
  epochs: number;
  ctx: number;
  threads: number;
  /** @default 16 */
  rank?: number;
  /** @default 2 × rank */
  alpha?: number;
  mask?: boolean;
  /** @default 3e-3 */
  lr?: number;
  /** Tensor short names; the binary's default when absent. */
  targets?: readonly string[];
}

export async function lora(options: LoraRunOptions): Promise<Measured & { lossCurve: number[]; trainSeconds: number; trainableParams: number }> {
  const rank = options.rank ?? 16;
  const args = ["--model", options.base, "--data", options.data, "--out", options.out, "--epochs", String(options.epochs), "--ctx", String(options.ctx), "--threads", String(options.threads), "--rank", String(rank), "--alpha", String(options.alpha ?? 2 * rank), "--lr", String(options.lr ?? 3e-3)];
  if (options.targets !== undefined) args.push("--targets", options.targets.join(","));
  if (options.mask === false) args.push("--no-mask");
  const result = await timed(LORA_TRAINER_BINARY, args);
  const events = result.stdout.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Record<string, unknown>);
  const done = events.find((event) => event.event === "done") as { tokens: number; trainSeconds: number; trainableParams: number; epochs: Array<{ loss: number }> } | undefined;
  if (done === undefined) throw new Error(`LoRA trainer did not finish: ${result.stdout.slice(-500)} ${result.stderr.slice(-500)}`);
  return { ...result, tokens: done.tokens, tokensPerSecond: done.tokens / result.wallSeconds, tokensPerCpuSecond: done.tokens / result.cpuSeconds, lossCurve: done.epochs.map((e) => e.loss), trainSeconds: done.trainSeconds, trainableParams: done.trainableParams };
}

export async function fullFinetune(options: { base: string; text: string; out: string; epochs: number; ctx: number; threads: number; tokens: number }): Promise<Measured & { datapoints: number }> {
  const result = await timed(FINETUNE, ["-m", options.base, "-f", options.text, "-c", String(options.ctx), "-b", String(options.ctx), "-ub", String(options.ctx), "--epochs", String(options.epochs), "-t", String(options.threads), "-o", options.out, "-lr", "1e-4", "-val-split", "0", "-ngl", "0"]);
  // common_opt_dataset_init: windows of ctx tokens with stride ctx/2 over the tokenized text
  const datapoints = Math.floor((options.tokens - options.ctx - 1) / (options.ctx / 2));
  const tokens = datapoints * options.ctx * options.epochs;
  return { ...result, datapoints, tokens, tokensPerSecond: tokens / result.wallSeconds, tokensPerCpuSecond: tokens / result.cpuSeconds };
}

export async function countTokens(model: string, text: string): Promise<number> {
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
