import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { CouncilError, NATIVE_BUILD_DIR } from "../../core/index.js";

export interface EpochLoss {
  epoch: number;
  trainLoss: number | undefined;
  validationLoss: number | undefined;
}

export interface FinetuneOptions {
  model: string;
  textFile: string;
  out: string;
  contextSize: number;
  epochs: number;
  learningRate: number;
  /** Final learning rate (exponential decay over `decayEpochs`). */
  learningRateMin?: number;
  decayEpochs?: number;
  /** Fraction of datapoints (the tail of the text) evaluated instead of trained; 1 = evaluate only. */
  validationSplit: number;
  threads: number;
  /** @default NATIVE_BUILD_DIR/bin/llama-finetune */
  binary?: string;
  /** Called with each finished epoch. */
  onEpoch?: (loss: EpochLoss) => void;
  signal?: AbortSignal;
}

export function finetuneBinary(binDir = join(NATIVE_BUILD_DIR, "bin")): string {
  return join(binDir, "llama-finetune");
}

const PROGRESS = /^(train|val):\s*\[.*\] data=(\d+)\/(\d+) loss=([-\d.naif]+)/;

/** Parses llama-finetune's progress output (lines split on \r and \n) into per-epoch losses. */
export function parseFinetuneProgress(output: string): EpochLoss[] {
  const epochs: EpochLoss[] = [];
  let current: EpochLoss = { epoch: 1, trainLoss: undefined, validationLoss: undefined };
  let sawVal = false;
  for (const line of output.split(/[\r\n]/)) {
    const match = PROGRESS.exec(line.trim());
    if (!match) continue;
    const [, kind, done, total, lossText] = match;
    if (done !== total) continue;
    const loss = Number(lossText);
    if (kind === "train") {
      if (current.trainLoss !== undefined || sawVal) {
        epochs.push(current);
        current = { epoch: current.epoch + 1, trainLoss: undefined, validationLoss: undefined };
        sawVal = false;
      }
      current.trainLoss = loss;
    } else {
      current.validationLoss = loss;
      sawVal = true;
    }
  }
  if (current.trainLoss !== undefined || current.validationLoss !== undefined) epochs.push(current);
  return epochs;
}

/** Runs llama.cpp's full-model trainer. Throws NATIVE_MISSING when it is not built, TRAINING_FAILED on a non-zero exit. */
export async function runFinetune(options: FinetuneOptions): Promise<{ epochs: EpochLoss[]; seconds: number; output: string }> {
  const binary = options.binary ?? finetuneBinary();
  if (!existsSync(binary)) throw new CouncilError("NATIVE_MISSING", `llama.cpp trainer not found at ${binary}; run npm run setup to build it.`, { details: { binary } });
  const args = [
    "-m", options.model,
    "-f", options.textFile,
    "-o", options.out,
    "-c", String(options.contextSize),
    "-b", String(options.contextSize),
    "-ub", String(options.contextSize),
    "-t", String(options.threads),
    "-tb", String(options.threads),
    "-ngl", "0",
    "-epochs", String(options.epochs),
    "-lr", String(options.learningRate),
    "-val-split", String(options.validationSplit),
    "-opt", "adamw",
  ];
  if (options.learningRateMin !== undefined && options.decayEpochs !== undefined) args.push("-lr-min", String(options.learningRateMin), "-decay-epochs", String(options.decayEpochs));
  const started = performance.now();
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"], signal: options.signal });
    let text = "";
    let reported = 0;
    const onData = (chunk: Buffer): void => {
      text += chunk.toString("utf8");
      if (options.onEpoch) {
        const epochs = parseFinetuneProgress(text).filter((epoch) => epoch.validationLoss !== undefined || options.validationSplit === 0);
        for (; reported < epochs.length; reported++) options.onEpoch(epochs[reported] as EpochLoss);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", (cause) => reject(new CouncilError("TRAINING_FAILED", `llama-finetune could not start: ${cause.message}`, { cause })));
    child.on("close", (code, signal) => {
      if (code === 0) resolve(text);
      else reject(new CouncilError("TRAINING_FAILED", `llama-finetune exited with ${code ?? signal}: ${text.split("\n").slice(-8).join("\n")}`, { details: { code, signal } }));
    });
  });
  const epochs = parseFinetuneProgress(output);
  if (epochs.length === 0) throw new CouncilError("TRAINING_FAILED", `llama-finetune printed no progress (too little text for context ${options.contextSize}?): ${output.split("\n").slice(-8).join("\n")}`);
  return { epochs, seconds: (performance.now() - started) / 1000, output };
}
