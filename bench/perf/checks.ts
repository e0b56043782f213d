/** The performance targets of the issues, and how each section's measurement is judged against them. */

export const PERF_SECTIONS = ["turn", "tokens", "memory", "swap", "rollback", "ws"] as const;
export type PerfSection = (typeof PERF_SECTIONS)[number];

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

export function check(name: string, measured: number | null | undefined, kind: "max" | "min", target: number, unit: string): PerfCheck {
  const value = measured === undefined || measured === null || !Number.isFinite(measured) ? null : measured;
  return { name, measured: value, target, kind, unit, met: value !== null && (kind === "max" ? value <= target : value >= target) };
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
