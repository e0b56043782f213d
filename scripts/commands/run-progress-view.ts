import { readRunProgress, type RunProgress } from "../../council/index.js";

const STAGE_TEXT: Record<string, string> = {
  harvest: "harvesting failures",
  rewrite: "Agent-0 rewriting",
  vote: "council voting",
  dataset: "building the dataset",
  train: "training the adapter",
  gate: "eval gate",
  approve: "waiting for approval",
  deploy: "deploying",
  canary: "canary",
};

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** One line for a running night, e.g. `night run-… +3m05s · train: epoch 12/200 loss 1.234 ETA 8m10s · harvested 5, vote 3/2`. */
export function formatRunProgress(progress: RunProgress, now: number): string {
  const parts = [`night ${progress.runId} +${formatDuration((now - progress.startedAt) / 1000)}`];
  const training = progress.training;
  if (progress.stage === "train" && training) {
    parts.push(`train: epoch ${training.epoch}/${training.epochs} loss ${training.loss.toFixed(3)}${training.etaSeconds === null ? "" : ` ETA ${formatDuration(training.etaSeconds)}`}`);
  } else {
    parts.push(`${progress.stage}: ${STAGE_TEXT[progress.stage] ?? progress.stage}`);
  }
  const counts: string[] = [];
  if (progress.harvested !== undefined) counts.push(`harvested ${progress.harvested}`);
  if (progress.accepted !== undefined) counts.push(`vote ${progress.accepted} accepted / ${progress.rejected ?? 0} rejected`);
  if (counts.length > 0) parts.push(counts.join(", "));
  return parts.join(" · ");
}

/** What `status` prints for a running night. */
export function formatRunningNight(progress: RunProgress, now: number): string {
  return `running night: ${progress.runId}, stage ${progress.stage} (since ${new Date(progress.stageStartedAt).toISOString()}), started ${new Date(progress.startedAt).toISOString()} — ${formatRunProgress(progress, now)}`;
}

export interface ProgressWatcherOptions {
  runsDir: string;
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  now?: () => number;
  /** Without a TTY, a training line at most this often (every stage change is printed). @default 15_000 */
  plainTrainingEveryMs?: number;
}

/**
 * Prints a running night's progress while `nightly --once` waits: on a TTY one line rewritten in place, otherwise
 * plain lines (each stage, and a training line now and then). Reads <runs>/progress.json, so it shows runs in the
 * server as well as in this process.
 */
export class ProgressWatcher {
  readonly #options: Required<Omit<ProgressWatcherOptions, "stream">> & { stream: ProgressWatcherOptions["stream"] };
  #lastLine = "";
  #lastStage = "";
  #lastTrainingAt = 0;
  #lastEpoch = 0;
  #onTtyLine = false;
  #timer: NodeJS.Timeout | undefined;

  constructor({ runsDir, stream, now = Date.now, plainTrainingEveryMs = 15_000 }: ProgressWatcherOptions) {
    this.#options = { runsDir, stream, now, plainTrainingEveryMs };
  }

  start(intervalMs = 1000): this {
    this.#timer = setInterval(() => this.poll(), intervalMs);
    this.#timer.unref();
    return this;
  }

  /** Reads the progress file once and prints what changed. */
  poll(): void {
    const progress = readRunProgress(this.#options.runsDir);
    if (progress === undefined) return;
    const now = this.#options.now();
    const line = formatRunProgress(progress, now);
    const { stream } = this.#options;
    if (stream.isTTY) {
      if (line === this.#lastLine) return;
      stream.write(`\r\x1b[K${line}`);
      this.#onTtyLine = true;
      this.#lastLine = line;
      return;
    }
    const stageKey = `${progress.runId}/${progress.stage}`;
    const epoch = progress.training?.epoch ?? 0;
    const stageChanged = stageKey !== this.#lastStage;
    const trainingDue = progress.training !== undefined && epoch !== this.#lastEpoch && (now - this.#lastTrainingAt >= this.#options.plainTrainingEveryMs || epoch === progress.training.epochs || this.#lastEpoch === 0);
    if (!stageChanged && !trainingDue) return;
    stream.write(`${line}\n`);
    this.#lastStage = stageKey;
    if (progress.training !== undefined) {
      this.#lastTrainingAt = now;
      this.#lastEpoch = epoch;
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#onTtyLine) this.#options.stream.write("\n");
    this.#onTtyLine = false;
  }
}
