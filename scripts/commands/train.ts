import { join } from "node:path";
import type { Command } from "commander";
import { dataPaths, loadConfig, type CouncilConfig } from "../../core/index.js";
import { createTrainer, trainBase, type TrainProgress } from "../../training/index.js";

interface TrainFlags {
  data: string;
  base?: string;
  out?: string;
  rank?: string;
  alpha?: string;
  epochs?: string;
  lr?: string;
  clip?: string;
  targets?: string;
  resume?: string;
  trainer?: "llamacpp-lora" | "qlora";
  threads?: string;
  ctx?: string;
  json?: boolean;
}

export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return "--";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/** One progress line: a bar over all steps, epoch, loss, speed and ETA. */
export function formatProgress(progress: TrainProgress, width = 24): string {
  const done = Math.min(1, progress.step / Math.max(1, progress.steps));
  const filled = Math.round(done * width);
  const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
  const loss = Number.isFinite(progress.loss) ? progress.loss.toFixed(4) : "n/a";
  return `${bar} ${String(Math.round(done * 100)).padStart(3)}%  epoch ${progress.epoch}/${progress.epochs}  step ${progress.step}/${progress.steps}  loss ${loss}  ${Math.round(progress.tokensPerSecond)} tok/s  ETA ${formatDuration(progress.etaSeconds)}`;
}

function defaultOut(config: CouncilConfig, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-");
  return join(dataPaths(config).versions, `adapter-${stamp}`);
}

export function register(program: Command): void {
  program
    .command("train")
    .description("Train a LoRA adapter (llama.cpp on CPU by default, QLoRA on a GPU host) into a folder with adapter.gguf and training.json")
    .requiredOption("--data <dir|jsonl>", "JSONL of {prompt, completion} strings or TRL conversational {messages: [...]} (rendered with the base's chat template, the seedling's if it has none), or a folder from `council dataset build`")
    .option("--base <gguf>", "base model: a GGUF (F32, F16, Q8_0, Q4_0, ...; llama, qwen2, qwen3) for llamacpp-lora, a Hugging Face folder for qlora; default: COUNCIL_TRAIN_BASE, else the served model (llamacpp-lora)")
    .option("--out <dir>", "output folder (must not exist); default: <dataDir>/loras/versions/adapter-<time>")
    .option("--rank <n>", "LoRA rank (config training.rank)")
    .option("--alpha <x>", "LoRA alpha; scale = alpha/rank (config training.alpha)")
    .option("--epochs <n>", "epochs (config training.epochs)")
    .option("--lr <x>", "peak learning rate (config training.learningRate)")
    .option("--targets <list>", "comma-separated tensor short names (config training.targets)")
    .option("--clip <x>", "clip the global gradient L2 norm before each step; 0 = off (config training.gradClip; llamacpp-lora)")
    .option("--resume <adapter.gguf>", "continue training this adapter (llamacpp-lora)")
    .option("--trainer <name>", "llamacpp-lora | qlora (config training.trainer)")
    .option("--threads <n>", "CPU threads (llamacpp-lora)")
    .option("--ctx <n>", "context every example must fit, in tokens; default: the base model's (llamacpp-lora)")
    .option("--json", "print progress and the result as JSON lines")
    .action(async (flags: TrainFlags) => {
      const config = loadConfig({
        overrides: {
          training: {
            ...(flags.trainer !== undefined ? { trainer: flags.trainer } : {}),
            ...(flags.rank !== undefined ? { rank: Number(flags.rank) } : {}),
            ...(flags.alpha !== undefined ? { alpha: Number(flags.alpha) } : {}),
            ...(flags.epochs !== undefined ? { epochs: Number(flags.epochs) } : {}),
            ...(flags.lr !== undefined ? { learningRate: Number(flags.lr) } : {}),
            ...(flags.clip !== undefined ? { gradClip: Number(flags.clip) } : {}),
            ...(flags.targets !== undefined ? { targets: flags.targets } : {}),
          },
        },
      });
      const threads = flags.threads !== undefined ? Number(flags.threads) : config.model.threads;
      const contextSize = flags.ctx !== undefined ? Number(flags.ctx) : undefined;
      const trainer = await createTrainer({ config, ...(threads !== undefined ? { threads } : {}), ...(contextSize !== undefined ? { contextSize } : {}) });
      const out = flags.out ?? defaultOut(config, new Date());
      const base = flags.base ?? trainBase({ config }).path;
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      const tty = process.stdout.isTTY === true && flags.json !== true;
      let lastEpochPrinted = 0;
      try {
        const result = await trainer.train({
          dataset: flags.data,
          base,
          out,
          rank: config.training.rank,
          alpha: config.training.alpha,
          epochs: config.training.epochs,
          learningRate: config.training.learningRate,
          targets: config.training.targets,
          ...(flags.resume !== undefined ? { resumeAdapter: flags.resume } : {}),
          signal: controller.signal,
          onProgress: (progress) => {
            if (flags.json) console.log(JSON.stringify({ event: "progress", ...progress }));
            else if (tty) process.stdout.write(`\r${formatProgress(progress)}\x1b[K`);
            else if (progress.kind === "epoch" && progress.epoch > lastEpochPrinted) {
              lastEpochPrinted = progress.epoch;
              console.log(formatProgress(progress));
            }
          },
        });
        const { report } = result;
        if (flags.json) console.log(JSON.stringify({ event: "result", adapterPath: result.adapterPath, trainingJson: result.trainingJson, report }));
        else {
          const first = report.lossCurve[0]?.loss;
          const last = report.lossCurve[report.lossCurve.length - 1]?.loss;
          console.log(`adapter: ${result.adapterPath}`);
          console.log(`loss ${first?.toFixed(4)} → ${last?.toFixed(4)} over ${report.lossCurve.length} epochs, ${formatDuration(report.durationSeconds)}, ${Math.round(report.tokensPerSecond)} tok/s, peak RSS ${(report.peakRssBytes / 2 ** 20).toFixed(0)} MiB`);
          console.log(`training.json: ${result.trainingJson}`);
        }
      } finally {
        if (tty) process.stdout.write("\n");
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}
