import { spawn } from "node:child_process";
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, platform, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { CouncilError, PROJECT_ROOT } from "../../core/index.js";
import { runRollbackBench, type RollbackBenchResult } from "./rollback.js";
import { runSwapBench, type SwapBenchResult } from "./swap.js";

export const PERF_SECTIONS = ["turn", "tokens", "memory", "swap", "rollback", "ws"] as const;
export type PerfSection = (typeof PERF_SECTIONS)[number];

export interface PerfBenchOptions {
  sections?: readonly PerfSection[];
  /** Small sizes everywhere (a smoke run in about two minutes). */
  quick?: boolean;
  /** Memory search sizes. @default 10000,100000,1000000 (quick: 2000) */
  sizes?: readonly number[];
  /** WebSocket load. @default 200 clients × 60 s (quick: 10 × 5 s) */
  clients?: number;
  seconds?: number;
  /**
   * What answers the WebSocket load: `fake` (default) measures the server itself (real fastify + ws + FaissMemory, a
   * scripted runtime), which is what "0 lost messages" is about; `seedling` puts the real council behind it (on 2 CPU
   * cores it answers ~1 question/s, so 200 clients mostly wait in the queue).
   */
  wsBackend?: "fake" | "seedling";
  /** Where perf-<date>.json goes. @default bench/results */
  outDir?: string;
  log?: (line: string) => void;
}

/** One target: what was measured against what the issue asks, and whether it is met. */
export interface PerfCheck {
  name: string;
  measured: number | null;
  target: number;
  /** `max`: measured ≤ target; `min`: measured ≥ target. */
  kind: "max" | "min";
  unit: string;
  met: boolean;
}

export interface PerfSectionResult {
  section: PerfSection;
  seconds: number;
  checks: PerfCheck[];
  /** The section's full measurement (the standalone bench's JSON for turn/tokens/memory/ws). */
  details: unknown;
  error?: string;
}

export interface PerfReport {
  benchmark: "perf";
  date: string;
  command: string;
  machine: { cpu: string | undefined; cores: number; memoryGiB: number; os: string; node: string; loadAverageBefore: number[]; loadAverageAfter: number[] };
  quick: boolean;
  sections: PerfSectionResult[];
  summary: { checks: number; met: number; failedSections: PerfSection[] };
}

export function check(name: string, measured: number | null | undefined, kind: "max" | "min", target: number, unit: string): PerfCheck {
  const value = measured === undefined || measured === null || !Number.isFinite(measured) ? null : measured;
  return { name, measured: value, target, kind, unit, met: value !== null && (kind === "max" ? value <= target : value >= target) };
}

/** Runs one of the standalone bench scripts in a child process and returns the JSON it wrote into `outDir`. */
async function runScript(script: string, args: readonly string[], log: (line: string) => void): Promise<unknown> {
  const outDir = await mkdtemp(join(tmpdir(), "council-perf-"));
  try {
    const argv = ["--import", "tsx", join(PROJECT_ROOT, "bench", script), ...args, "--out", outDir];
    log(`perf: tsx bench/${script} ${args.join(" ")}`);
    const output: string[] = [];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, argv, { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? "1" } });
      const keep = (chunk: Buffer) => {
        output.push(chunk.toString());
        if (output.length > 200) output.shift();
      };
      child.stdout.on("data", keep);
      child.stderr.on("data", keep);
      child.on("error", reject);
      child.on("close", resolve);
    });
    // A bench that measured but missed its own target exits 1 after writing its file: keep the measurement.
    const files = (await readdir(outDir)).filter((file) => file.endsWith(".json"));
    if (files.length !== 1) throw new CouncilError("BENCH_FAILED", `bench/${script} exited with ${code} and wrote ${files.length} result files: ${output.join("").slice(-1500)}`);
    return JSON.parse(await readFile(join(outDir, files[0]!), "utf8")) as unknown;
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- results of other scripts

/** Reads the targets out of each section's measurement. Exported for tests. */
export const CHECKS: { [S in PerfSection]: (details: Json) => PerfCheck[] } = {
  turn: (d) => [check("council turn overhead, share of turn time (p50)", d.council?.heuristic?.overheadRatio?.p50, "max", 0.05, "ratio")],
  tokens: (d) => [check("streamed tokens/s vs raw llama.cpp (decode)", d.decodeRatio, "min", 0.9, "ratio")],
  memory: (d) => {
    const rows = (d.results ?? []) as Json[];
    return rows.flatMap((row) => [
      check(`memory search p50 at ${row.entries}`, row.p50_ms, "max", 2, "ms"),
      check(`memory recall@10 at ${row.entries}`, row.recall_at_10, "min", 0.95, "ratio"),
      check(`main thread blocked per search at ${row.entries}`, row.main_thread_busy_ms_per_search, "max", 5, "ms"),
    ]);
  },
  swap: (d) => [check("hot swap: failed requests", d.failedRequests, "max", 0, "requests"), check("hot swap: time until the new adapter serves (max)", d.msUntilServed?.max, "max", 1000, "ms")],
  rollback: (d) => [check("rollback: breach → 100 % on previous (max)", d.msUntilAllOnStable?.max, "max", d.limitMs ?? Number.NaN, "ms")],
  ws: (d) => [check("WebSocket load: lost messages", d.results?.lost, "max", 0, "messages"), check("WebSocket load: out of order", d.results?.outOfOrder, "max", 0, "messages")],
};

/** Summary line counts; exported for tests. */
export function summarize(sections: readonly PerfSectionResult[]): PerfReport["summary"] {
  const checks = sections.flatMap((s) => s.checks);
  return { checks: checks.length, met: checks.filter((c) => c.met).length, failedSections: sections.filter((s) => s.error !== undefined).map((s) => s.section) };
}

/**
 * `council bench perf`: the performance benchmarks side by side in one run — council turn overhead vs raw
 * generation, streamed tokens/s vs llama.cpp, memory search at 10 k / 100 k / 1 M (synthetic vectors above the
 * ~29 k tldr examples), adapter hot swap under load, rollback latency, WebSocket load — each judged against the
 * issue's targets, written to bench/results/perf-<date>.json. A failing section is recorded, the rest still run.
 */
export async function runPerfBench(options: PerfBenchOptions = {}): Promise<{ report: PerfReport; file: string }> {
  const { quick = false, sections = PERF_SECTIONS, outDir = join(PROJECT_ROOT, "bench", "results"), log = console.log } = options;
  const sizes = options.sizes ?? (quick ? [2000] : [10_000, 100_000, 1_000_000]);
  const clients = options.clients ?? (quick ? 10 : 200);
  const seconds = options.seconds ?? (quick ? 5 : 60);
  const loadAverageBefore = loadavg().map((x) => Math.round(x * 100) / 100);
  const runners: { [S in PerfSection]: () => Promise<unknown> } = {
    turn: () => runScript("turn-overhead.ts", ["--turns", quick ? "3" : "12"], log),
    tokens: () => runScript("tokens-per-second.ts", ["--threads", "1", ...(quick ? ["--runs", "1", "--tokens", "32"] : [])], log),
    memory: () => runScript("memory-search.ts", ["--sizes", sizes.join(","), "--queries", quick ? "20" : "200"], log),
    swap: (): Promise<SwapBenchResult> => runSwapBench(quick ? { swaps: 2, clients: 2, maxTokens: 12 } : {}),
    rollback: (): Promise<RollbackBenchResult> => runRollbackBench(quick ? { intervalSeconds: 0.5, trials: 1 } : {}),
    ws: () => runScript("ws-load.ts", ["--clients", String(clients), "--seconds", String(seconds), "--backend", options.wsBackend ?? "fake", ...(quick ? ["--grace-seconds", "30"] : [])], log),
  };
  const results: PerfSectionResult[] = [];
  for (const section of PERF_SECTIONS.filter((s) => sections.includes(s))) {
    const started = performance.now();
    log(`perf: ${section} …`);
    try {
      const details = await runners[section]();
      const checks = CHECKS[section](details as Json);
      results.push({ section, seconds: Math.round((performance.now() - started) / 100) / 10, checks, details });
      for (const c of checks) log(`perf: ${c.met ? "met    " : "NOT met"} ${c.name}: ${c.measured ?? "n/a"} ${c.unit} (target ${c.kind === "max" ? "≤" : "≥"} ${c.target})`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`perf: ${section} failed: ${message.slice(0, 500)}`);
      results.push({ section, seconds: Math.round((performance.now() - started) / 100) / 10, checks: [], details: null, error: message });
    }
  }
  const date = new Date().toISOString();
  const report: PerfReport = {
    benchmark: "perf",
    date,
    command: `npx council bench perf${quick ? " --quick" : ""}${options.sections ? ` --sections ${sections.join(",")}` : ""}${options.wsBackend ? ` --ws-backend ${options.wsBackend}` : ""}`,
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), os: `${platform()} ${release()}`, node: process.version, loadAverageBefore, loadAverageAfter: loadavg().map((x) => Math.round(x * 100) / 100) },
    quick,
    sections: results,
    summary: summarize(results),
  };
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, `perf-${date.slice(0, 10)}${quick ? "-quick" : ""}.json`);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  return { report, file };
}
