import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, platform, release, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { CouncilError } from "../../core/index.js";
import { renderChart } from "./chart.js";
import { freePort, runNightlyOnce, startCouncilServer, type NightlySummary } from "./council-process.js";
import { cycleResult, repeatFailureRate, successRate, type DayOutcome, type ImproveResults } from "./cycle-stats.js";
import type { BenchItem } from "./items.js";
import { nightQuality } from "./night-quality.js";
import { askAndRate, type AskedItem } from "./simulated-user.js";

export type TrafficItem = BenchItem & { answer?: string };

export interface ImproveBenchOptions {
  traffic: readonly TrafficItem[];
  eval: readonly BenchItem[];
  /** Knowledge-base pages written to `<work>/kb` and indexed by the server (COUNCIL_KB_EXTRA_DIRS). */
  kbPages?: ReadonlyArray<{ page: string; markdown: string }>;
  /** Path of the eval file the server gets as its holdout set (COUNCIL_EVAL_HOLDOUT). */
  evalFile: string;
  cycles: number;
  outDir: string;
  /** Share of 👎 that carry the right answer as a correction. @default 0 */
  corrections?: number;
  /** Questions in flight at once. @default 2 */
  concurrency?: number;
  /** Distinct simulated users (chat tokens). @default 40 */
  users?: number;
  /** Scratch folder for the server's data (memory, loras, runs); a temp folder when not given. */
  workDir?: string;
  /** Keep the scratch folder. @default false */
  keepWork?: boolean;
  /** What a night may release (COUNCIL_IMPROVE_CHANNELS). @default ["memory", "adapter"] */
  channels?: ReadonlyArray<"memory" | "adapter">;
  /** Extra environment for the server and nightly processes (COUNCIL_*), on top of the current one. */
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

interface DayRecord {
  day: number;
  traffic: AskedItem[];
  eval: AskedItem[];
}

/** Deterministic per-item choice in [0, 1) (for which 👎 carries a correction). */
function unitHash(text: string): number {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619);
  return (hash >>> 0) / 2 ** 32;
}

async function pool<T, R>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<R>, progress?: (done: number, total: number) => void): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!, index);
        progress?.(++done, items.length);
      }
    }),
  );
  return results;
}

const fmtShare = (share: number | null) => (share === null ? "n/a" : `${(100 * share).toFixed(1)} %`);

/** Share of a day's answers the council itself judged a success. */
function councilSuccess(asked: readonly AskedItem[]): number {
  return asked.length === 0 ? 0 : Math.round((asked.filter((entry) => entry.councilSuccess).length / asked.length) * 1000) / 1000;
}

/** Shares of a day's answers by where they came from. */
function servedShares(asked: readonly AskedItem[]): { memory: number; adapter: number; base: number; fallback: number } {
  const total = Math.max(1, asked.length);
  const count = (test: (entry: AskedItem) => boolean) => Math.round((asked.filter(test).length / total) * 1000) / 1000;
  return {
    memory: count((entry) => entry.source === "memory"),
    adapter: count((entry) => entry.source === "model" && entry.adapter !== null),
    base: count((entry) => entry.source === "model" && entry.adapter === null),
    fallback: count((entry) => entry.source === "fallback"),
  };
}

const councilOutcomeOf = (asked: readonly AskedItem[]): DayOutcome => new Map(asked.map((entry) => [entry.id, entry.councilSuccess]));
const outcomeOf = (asked: readonly AskedItem[]): DayOutcome => new Map(asked.map((entry) => [entry.id, entry.passed]));

/**
 * The self-improvement benchmark: a real `council serve` on a scratch data dir, simulated users asking every
 * traffic question over WebSocket and rating it, then one `council nightly --once` per cycle (simulated users
 * keep sending traffic during its canary), then the next day. Writes results.json, chart.svg and details.json.
 */
export async function runImproveBench(options: ImproveBenchOptions): Promise<ImproveResults> {
  const { traffic, eval: evalItems, kbPages = [], cycles, corrections = 0, concurrency = 2, users = 40, keepWork = false, log = () => {}, channels = ["memory", "adapter"] } = options;
  if (!Number.isInteger(cycles) || cycles < 1) throw new CouncilError("CONFIG_INVALID", `--cycles must be a positive integer, got ${cycles}.`);
  if (!(corrections >= 0 && corrections <= 1)) throw new CouncilError("CONFIG_INVALID", `--corrections must be in [0, 1], got ${corrections}.`);
  if (traffic.length === 0 || evalItems.length === 0) throw new CouncilError("DATASET_EMPTY", "The benchmark needs at least one traffic and one eval item.");
  const evalIds = new Set(evalItems.map((item) => item.id));
  const evalQuestions = new Set(evalItems.map((item) => item.question.trim().toLowerCase()));
  const overlap = traffic.filter((item) => evalIds.has(item.id) || evalQuestions.has(item.question.trim().toLowerCase()));
  if (overlap.length > 0) throw new CouncilError("DATASET_CONTAMINATED", `Traffic and eval share items: ${overlap.slice(0, 5).map((item) => item.id).join(", ")}.`);

  const outDir = resolve(options.outDir);
  await mkdir(outDir, { recursive: true });
  const workDir = options.workDir ? resolve(options.workDir) : await mkdtemp(join(tmpdir(), "council-bench-improve-"));
  await mkdir(workDir, { recursive: true });
  const kbDir = join(workDir, "kb");
  await mkdir(kbDir, { recursive: true });
  for (const { page, markdown } of kbPages) await writeFile(join(kbDir, `${page}.md`), markdown);
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    COUNCIL_LOG_LEVEL: "warn",
    COUNCIL_MESSAGES_PER_MINUTE: "100000",
    // A few simulated users ask about one question a second in all, so a 10 % step sees ~2 requests per 30 s
    // window and never reaches the minimum (measured: 21 canary turns in 600 s, rolled back by the deadline).
    // Two steps of 60 s windows give the canary ~20 requests per window at 50 %.
    COUNCIL_CANARY_STEPS: "50,100",
    COUNCIL_CANARY_INTERVAL_S: "60",
    COUNCIL_CANARY_MIN_REQUESTS: "5",
    COUNCIL_CANARY_DEADLINE_S: "900",
    ...process.env,
    ...options.env,
    COUNCIL_DATA_DIR: join(workDir, "data"),
    COUNCIL_HOST: "127.0.0.1",
    COUNCIL_PORT: String(port),
    COUNCIL_ADMIN_TOKEN: randomBytes(16).toString("hex"),
    COUNCIL_IMPROVE_POLICY: "auto",
    COUNCIL_IMPROVE_CHANNELS: channels.join(","),
    COUNCIL_EVAL_HOLDOUT: resolve(options.evalFile),
    ...(kbPages.length > 0 ? { COUNCIL_KB_EXTRA_DIRS: kbDir } : {}),
  };
  const logFile = join(workDir, "council.log");
  log(`work dir ${workDir}; server log ${logFile}`);
  const started = Date.now();
  const server = await startCouncilServer({ env, port, logFile });
  log(`server ready on ${server.url} in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  /** A progress line every 10 % (and at the end): a bench that runs an hour silently looks hung. */
  const progress = (label: string) => {
    const startedAt = performance.now();
    let lastDecile = -1;
    return (done: number, total: number) => {
      const decile = Math.floor((10 * done) / total);
      if (decile === lastDecile && done < total) return;
      lastDecile = decile;
      const elapsed = (performance.now() - startedAt) / 1000;
      const eta = done === 0 ? 0 : (elapsed / done) * (total - done);
      log(`${label}: ${done}/${total} (${elapsed.toFixed(0)} s, ETA ${eta.toFixed(0)} s)`);
    };
  };
  const askDay = async (day: number): Promise<DayRecord> => {
    const trafficAsked = await pool(
      traffic,
      concurrency,
      (item, index) => {
        const user = `sim-user-${index % users}`;
        return askAndRate({ item, url: server.wsUrl, token: user, sessionId: `${user}-day${day}`, correct: unitHash(`${item.id}:${day}`) < corrections });
      },
      progress(`day ${day} traffic`),
    );
    const evalAsked = await pool(evalItems, concurrency, (item) => askAndRate({ item, url: server.wsUrl, token: "sim-eval", sessionId: `eval-day${day}`, rate: false }), progress(`day ${day} eval`));
    const served = servedShares(trafficAsked);
    log(`day ${day}: traffic ${(successRate(outcomeOf(trafficAsked)) * 100).toFixed(1)} % (council's own verdict: ${fmtShare(councilSuccess(trafficAsked))}), eval ${(successRate(outcomeOf(evalAsked)) * 100).toFixed(1)} % (traffic served: memory ${fmtShare(served.memory)}, adapter ${fmtShare(served.adapter)}, base ${fmtShare(served.base)}, fallback ${fmtShare(served.fallback)})`);
    return { day, traffic: trafficAsked, eval: evalAsked };
  };

  /** Canary traffic: distinct users keep asking (and rating) traffic questions until `done` resolves. */
  const canaryTraffic = async (night: number, done: Promise<unknown>) => {
    const byAdapter: Record<string, { turns: number; passed: number }> = {};
    let finished = false;
    void done.finally(() => (finished = true));
    let turn = 0;
    const errors: string[] = [];
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (!finished) {
          const index = turn++;
          const item = traffic[(index * 7 + night) % traffic.length]!;
          const user = `canary-user-${night}-${index % (users * 2)}`;
          try {
            const asked = await askAndRate({ item, url: server.wsUrl, token: user, sessionId: `${user}-night${night}` });
            const entry = (byAdapter[asked.adapter ?? "base"] ??= { turns: 0, passed: 0 });
            entry.turns++;
            if (asked.passed) entry.passed++;
          } catch (error) {
            errors.push((error as Error).message);
            await new Promise((resolveSleep) => setTimeout(resolveSleep, 1000));
          }
        }
      }),
    );
    return { byAdapter, errors: errors.slice(0, 20), errorCount: errors.length };
  };

  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", memoryGiB: Math.round(totalmem() / 2 ** 30), platform: `${platform()} ${release()}`, node: process.version };
  const details: Record<string, unknown> = { startedAt: new Date(started).toISOString(), machine, model: env.COUNCIL_MODEL ?? "seedling (models/seedling.gguf)", canary: { steps: env.COUNCIL_CANARY_STEPS ?? "default", intervalSeconds: env.COUNCIL_CANARY_INTERVAL_S, minRequests: env.COUNCIL_CANARY_MIN_REQUESTS }, gateMaxLatencyRatio: env.COUNCIL_GATE_MAX_LATENCY_RATIO, trafficItems: traffic.length, evalItems: evalItems.length, kbPages: kbPages.map((p) => p.page), cycles, corrections, concurrency, users, days: [] as unknown[], nights: [] as unknown[] };
  const writeOutputs = async (results: ImproveResults) => {
    await writeFile(join(outDir, "results.json"), JSON.stringify(results, null, 2) + "\n");
    await writeFile(join(outDir, "chart.svg"), renderChart({ results, title: `council bench improve: ${traffic.length} traffic / ${evalItems.length} eval items, ${new Date(started).toISOString().slice(0, 10)}` }));
    await writeFile(join(outDir, "details.json"), JSON.stringify(details, null, 2) + "\n");
  };
  const dayDetails = (record: DayRecord) => ({
    day: record.day,
    traffic: record.traffic.map(({ id, passed, adapter, source, councilSuccess: council, rated, corrected, seconds }) => ({ id, passed, council, adapter, source, rated, corrected, seconds: Math.round(seconds * 10) / 10 })),
    eval: record.eval.map(({ id, passed, adapter, source, seconds }) => ({ id, passed, adapter, source, seconds: Math.round(seconds * 10) / 10 })),
  });

  try {
    let yesterday = await askDay(0);
    (details.days as unknown[]).push(dayDetails(yesterday));
    const results: ImproveResults = {
      baseline: { traffic_success: successRate(outcomeOf(yesterday.traffic)), eval_success: successRate(outcomeOf(yesterday.eval)), council_success: councilSuccess(yesterday.traffic), served: servedShares(yesterday.traffic) },
      cycles: [],
    };
    await writeOutputs(results);
    for (let cycle = 1; cycle <= cycles; cycle++) {
      const cycleStart = performance.now();
      log(`night ${cycle}: council nightly --once`);
      const nightly = runNightlyOnce({ env, logFile });
      const nightStarted = performance.now();
      const ticker = setInterval(() => log(`night ${cycle}: running for ${((performance.now() - nightStarted) / 60_000).toFixed(1)} min (stages in ${logFile})`), 60_000);
      const canary = await canaryTraffic(cycle, nightly.catch(() => undefined)).finally(() => clearInterval(ticker));
      const summary: NightlySummary = await nightly;
      const quality = nightQuality({ runDir: join(env.COUNCIL_DATA_DIR!, "data", "runs", summary.runId), items: traffic });
      const memory = (summary as { memory?: { released?: number } | null }).memory;
      if (quality) log(`night ${cycle}: right candidate for ${fmtShare(quality.right_candidate_share)} of ${quality.failures} failures; vote precision ${fmtShare(quality.vote_precision)}, recall ${fmtShare(quality.vote_recall)}; verified entries released ${memory?.released ?? 0}`);
      log(`night ${cycle}: ${summary.outcome} (harvested ${summary.harvested}, accepted ${summary.accepted}, training ${summary.trainingSeconds.toFixed(1)} s${summary.reasons.length ? `; ${summary.reasons.join("; ")}` : ""})`);
      (details.nights as unknown[]).push({ cycle, summary, canary });
      const today = await askDay(cycle);
      (details.days as unknown[]).push(dayDetails(today));
      results.cycles.push({
        ...cycleResult({
          cycle,
          yesterday: outcomeOf(yesterday.traffic),
          today: outcomeOf(today.traffic),
          evalDay: outcomeOf(today.eval),
          harvested: summary.harvested,
          accepted: summary.accepted,
          trainingSeconds: summary.trainingSeconds,
          cycleSeconds: (performance.now() - cycleStart) / 1000,
        }),
        outcome: summary.outcome,
        council_success: councilSuccess(today.traffic),
        council_repeat_failure_rate: Math.round(repeatFailureRate({ yesterday: councilOutcomeOf(yesterday.traffic), today: councilOutcomeOf(today.traffic) }) * 1000) / 1000,
        served: servedShares(today.traffic),
        verified_released: memory?.released ?? 0,
        right_candidate_share: quality?.right_candidate_share ?? null,
        vote_precision: quality?.vote_precision ?? null,
        vote_recall: quality?.vote_recall ?? null,
      });
      await writeOutputs(results);
      yesterday = today;
    }
    details.endedAt = new Date().toISOString();
    await writeOutputs(results);
    return results;
  } finally {
    await server.stop();
    if (!keepWork && !options.workDir) await rm(workDir, { recursive: true, force: true });
  }
}

