import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { CouncilError, type CouncilErrorCode } from "../core/index.js";
import { trainerEventSchema, type DoneEvent, type EpochEvent, type StartEvent, type StepEvent, type TrainerEvent } from "./trainer-events.js";

export interface TrainerProcessOptions {
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onEvent?: (event: TrainerEvent) => void;
}

export interface TrainerProcessResult {
  start: StartEvent | undefined;
  steps: StepEvent[];
  epochs: EpochEvent[];
  done: DoneEvent;
}

const CODE_MAP: Record<string, CouncilErrorCode> = {
  DATASET_INVALID: "DATASET_INVALID",
  MODEL_INVALID: "MODEL_INVALID",
  ADAPTER_MISMATCH: "ADAPTER_MISMATCH",
  DISK_FULL: "DISK_FULL",
};

/**
 * Runs a trainer process that speaks the JSON-lines protocol of trainer-events.ts. Resolves with the
 * collected events when it exits 0 after a `done` event; otherwise rejects with the CouncilError its
 * `error` event names (TRAINING_FAILED when it names none), or CANCELLED after `signal` fired.
 */
export function runTrainerProcess({ command, args, cwd, env, signal, onEvent }: TrainerProcessOptions): Promise<TrainerProcessResult> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new CouncilError("CANCELLED", "Training was cancelled before it started."));
      return;
    }
    const child = spawn(command, [...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    const result: { start?: StartEvent; steps: StepEvent[]; epochs: EpochEvent[]; done?: DoneEvent; error?: { code: string; message: string } } = { steps: [], epochs: [] };
    let stderrTail = "";
    let cancelled = false;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      fn();
    };
    const onAbort = () => {
      cancelled = true;
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 5000).unref();
    };
    signal?.addEventListener("abort", onAbort, { once: true });

    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-4000);
    });
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      if (!line.trim().startsWith("{")) return;
      const event = parseEvent(line);
      if (event === undefined) return;
      if (event.event === "start") result.start = event;
      else if (event.event === "step") result.steps.push(event);
      else if (event.event === "epoch") result.epochs.push(event);
      else if (event.event === "done") result.done = event;
      else result.error = { code: event.code, message: event.message };
      try {
        onEvent?.(event);
      } catch (error) {
        onAbort();
        settle(() => reject(error));
      }
    });
    child.on("error", (cause) => {
      settle(() => reject(new CouncilError("TRAINING_FAILED", `Cannot start trainer ${command}: ${cause.message}`, { cause })));
    });
    const stdoutClosed = new Promise<void>((resolveClosed) => lines.once("close", resolveClosed));
    child.on("close", (exitCode, exitSignal) => {
      void stdoutClosed.then(() => {
        if (cancelled) {
          settle(() => reject(new CouncilError("CANCELLED", "Training was cancelled.")));
          return;
        }
        if (exitCode === 0 && result.done !== undefined && result.error === undefined) {
          const done = result.done;
          settle(() => resolve({ start: result.start, steps: result.steps, epochs: result.epochs, done }));
          return;
        }
        const code = (result.error && CODE_MAP[result.error.code]) ?? "TRAINING_FAILED";
        const why = result.error?.message ?? `trainer exited with ${exitSignal ? `signal ${exitSignal}` : `code ${exitCode}`}${stderrTail ? `: ${stderrTail.trim().split("\n").slice(-5).join(" | ")}` : ""}`;
        settle(() => reject(new CouncilError(code, why, { details: { exitCode, trainerCode: result.error?.code } })));
      });
    });
  });
}

/** A protocol line, or undefined for anything else the process prints (its own logs). */
function parseEvent(line: string): TrainerEvent | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined; // not a protocol line
  }
  const parsed = trainerEventSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}
