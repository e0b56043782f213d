import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg, platform, release, totalmem } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../core/index.js";
import { CHECKS, PERF_SECTIONS, type PerfCheck, type PerfSection } from "./checks.js";
import { runScript } from "./run-script.js";
import { runRollbackBench, type RollbackBenchResult } from "./rollback.js";
import { runSwapBench, type SwapBenchResult } from "./swap.js";

export { check, CHECKS, PERF_SECTIONS, type PerfCheck, type PerfSection } from "./checks.js";
export { QWEN2_5_0_5B_SHAPE, TINY_QWEN2_SHAPE, parameterCount, writeRandomQwen2Model, type RandomModelShape } from "./random-model.js";
export { REAL_SIZE_SECTIONS, runRealSizeBench, type RealSizeBenchOptions, type RealSizeReport, type RealSizeSection } from "./real-size.js";

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
      const checks = CHECKS[section](details as Record<string, unknown>);
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
