/** Pass/fail of every item on one simulated day, keyed by item id. */
export type DayOutcome = ReadonlyMap<string, boolean>;

/** Share of items that passed; 0 for an empty day. */
export function successRate(day: DayOutcome): number {
  if (day.size === 0) return 0;
  let passed = 0;
  for (const ok of day.values()) if (ok) passed++;
  return passed / day.size;
}

/**
 * Of yesterday's failures (asked again today), the share that fail again. 0 when yesterday had no failures
 * (nothing could repeat).
 */
export function repeatFailureRate({ yesterday, today }: { yesterday: DayOutcome; today: DayOutcome }): number {
  return shareOf({ yesterday, today, wasPassing: false, countToday: false });
}

/**
 * Of yesterday's passes (asked again today), the share that still pass. 1 when yesterday had no passes
 * (nothing could regress).
 */
export function regressionKept({ yesterday, today }: { yesterday: DayOutcome; today: DayOutcome }): number {
  const share = shareOf({ yesterday, today, wasPassing: true, countToday: true });
  return Number.isNaN(share) ? 1 : share;
}

function shareOf({ yesterday, today, wasPassing, countToday }: { yesterday: DayOutcome; today: DayOutcome; wasPassing: boolean; countToday: boolean }): number {
  let base = 0;
  let hits = 0;
  for (const [id, passed] of yesterday) {
    if (passed !== wasPassing) continue;
    const now = today.get(id);
    if (now === undefined) continue;
    base++;
    if (now === countToday) hits++;
  }
  if (base === 0) return wasPassing ? Number.NaN : 0;
  return hits / base;
}

export interface CycleResult {
  cycle: number;
  traffic_success: number;
  repeat_failure_rate: number;
  regression_kept: number;
  eval_success: number;
  harvested: number;
  accepted: number;
  training_seconds: number;
  cycle_seconds: number;
  /** The night's outcome (promoted, gate-failed, memory-only, …). */
  outcome?: string;
  /** Share of today's traffic the council itself judged a success (critic), whatever the regex says. */
  council_success?: number;
  /** Of yesterday's turns the council itself failed, the share it fails again today (its own verdict, not the regex). */
  council_repeat_failure_rate?: number;
  /** Shares of today's traffic answers by source: verified memory, an adapter, the base model, a knowledge-base fallback. */
  served?: { memory: number; adapter: number; base: number; fallback: number };
  /** Verified entries the night released. */
  verified_released?: number;
  /** Share of harvested failures with at least one right candidate (bench regexes). */
  right_candidate_share?: number | null;
  vote_precision?: number | null;
  vote_recall?: number | null;
}

export interface ImproveResults {
  baseline: { traffic_success: number; eval_success: number; council_success?: number; served?: { memory: number; adapter: number; base: number; fallback: number } };
  cycles: CycleResult[];
}

/** One cycle's row from yesterday's and today's traffic, today's eval and the night's run. */
export function cycleResult({ cycle, yesterday, today, evalDay, harvested, accepted, trainingSeconds, cycleSeconds }: {
  cycle: number;
  yesterday: DayOutcome;
  today: DayOutcome;
  evalDay: DayOutcome;
  harvested: number;
  accepted: number;
  trainingSeconds: number;
  cycleSeconds: number;
}): CycleResult {
  return {
    cycle,
    traffic_success: successRate(today),
    repeat_failure_rate: repeatFailureRate({ yesterday, today }),
    regression_kept: regressionKept({ yesterday, today }),
    eval_success: successRate(evalDay),
    harvested,
    accepted,
    training_seconds: round(trainingSeconds),
    cycle_seconds: round(cycleSeconds),
  };
}

const round = (value: number) => Math.round(value * 10) / 10;
