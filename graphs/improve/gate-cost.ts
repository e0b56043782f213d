/** One answer's cost as the gate measured it. `tokens` / `cpuSeconds` are absent when the answer port does not report them. */
export interface AnswerCost {
  text: string;
  latencyMs: number;
  tokens?: number;
  /** Process CPU seconds (user + system) spent producing the answer. */
  cpuSeconds?: number;
}

/** Cost per answer of one side (candidate or current), averaged over every gate case. */
export interface SideCost {
  answers: number;
  /** Mean output tokens (or characters, see `unit`) per answer. */
  perAnswer: number;
  latencyMsPerAnswer: number;
  /** Mean CPU seconds per answer (absent when the port reports none). */
  cpuSecondsPerAnswer?: number;
}

/** The CPU-seconds half of the cost verdict, on the same like-for-like cases as the size half. */
export interface CpuCostReport {
  compared: { cases: number; candidate: number; current: number };
  /** compared.candidate / compared.current (null when nothing was compared or current used no CPU). */
  ratio: number | null;
  slack: number;
  passed: boolean;
}

/** The gate's cost-per-answer verdict (in gate.json as `cost`). */
export interface CostReport {
  /** `tokens` when every answer reported its token count, else `characters`. */
  unit: "tokens" | "characters";
  /** Over every gate answer. */
  candidate: SideCost;
  current: SideCost;
  /**
   * What the verdict compares: the cases both sides answered right (like for like: a right answer is not judged
   * against a short wrong one, e.g. "I do not know" on tonight's failures).
   */
  compared: { cases: number; candidate: number; current: number };
  /** compared.candidate / compared.current (null when nothing was compared or current's answers were empty). */
  ratio: number | null;
  maxRatio: number;
  /** Absolute allowance on top of the ratio, so a few words more on short answers cannot fail the gate. */
  slack: number;
  /** CPU seconds per answer, judged with the same maxRatio (+ COST_SLACK.cpuSeconds); null when the port reports no CPU time. */
  cpu?: CpuCostReport | null;
  /** Both halves: size (tokens or characters) and, when measured, CPU seconds. */
  passed: boolean;
  reason: string;
}

/** Slack per unit: 16 tokens, or 64 characters (about 4 characters per token); 0.05 CPU seconds per answer. */
export const COST_SLACK = { tokens: 16, characters: 64, cpuSeconds: 0.05 } as const;

const mean = (values: readonly number[]) => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);

/**
 * Cost per answer, candidate vs current: mean output size, CPU seconds and latency per answer. On the cases both
 * sides answer right, the candidate passes when its mean size ≤ maxRatio × current's + slack and, when the port
 * reports CPU time, its mean CPU seconds ≤ maxRatio × current's + 0.05 s (an adapter that answers as well but
 * twice as long, or twice as slowly, costs every user twice the tokens or the machine time).
 */
export function costVerdict({ pairs, maxRatio }: { pairs: ReadonlyArray<{ candidate: AnswerCost & { pass: boolean }; current: AnswerCost & { pass: boolean } }>; maxRatio: number }): CostReport {
  const candidate = pairs.map((pair) => pair.candidate);
  const current = pairs.map((pair) => pair.current);
  const unit = [...candidate, ...current].every((answer) => answer.tokens !== undefined) ? "tokens" : "characters";
  const size = (answer: AnswerCost) => (unit === "tokens" ? answer.tokens! : answer.text.length);
  const measuresCpu = pairs.length > 0 && [...candidate, ...current].every((answer) => answer.cpuSeconds !== undefined);
  const side = (answers: readonly AnswerCost[]): SideCost => ({
    answers: answers.length,
    perAnswer: mean(answers.map(size)),
    latencyMsPerAnswer: mean(answers.map((answer) => answer.latencyMs)),
    ...(measuresCpu ? { cpuSecondsPerAnswer: mean(answers.map((answer) => answer.cpuSeconds!)) } : {}),
  });
  const c = side(candidate);
  const k = side(current);
  const both = pairs.filter((pair) => pair.candidate.pass && pair.current.pass);
  const compared = { cases: both.length, candidate: mean(both.map((pair) => size(pair.candidate))), current: mean(both.map((pair) => size(pair.current))) };
  const slack = COST_SLACK[unit];
  const ratio = compared.cases > 0 && compared.current > 0 ? compared.candidate / compared.current : null;
  const sizePassed = compared.cases === 0 || compared.candidate <= maxRatio * compared.current + slack;
  const cpu = measuresCpu ? cpuVerdict({ both, maxRatio }) : null;
  const passed = sizePassed && (cpu?.passed ?? true);
  const overall = `${c.perAnswer.toFixed(1)} ${unit} and ${c.latencyMsPerAnswer.toFixed(0)} ms per answer vs current ${k.perAnswer.toFixed(1)} ${unit} and ${k.latencyMsPerAnswer.toFixed(0)} ms`;
  const like = `on the ${compared.cases} case(s) both answer right: ${compared.candidate.toFixed(1)} vs ${compared.current.toFixed(1)} ${unit}`;
  const sizeReason =
    compared.cases === 0 ? `${overall}; no case both answer right, nothing to compare` : sizePassed ? `${overall}; ${like} (ratio ${ratio === null ? "n/a" : ratio.toFixed(2)} ≤ ${maxRatio})` : `${overall}; ${like}, more than ${maxRatio} × current + ${slack} ${unit}`;
  const cpuReason =
    cpu === null || cpu.compared.cases === 0
      ? ""
      : `; CPU ${cpu.compared.candidate.toFixed(3)} vs ${cpu.compared.current.toFixed(3)} s per answer${cpu.passed ? ` (ratio ${cpu.ratio === null ? "n/a" : cpu.ratio.toFixed(2)} ≤ ${maxRatio})` : `, more than ${maxRatio} × current + ${cpu.slack} s`}`;
  return { unit, candidate: c, current: k, compared, ratio, maxRatio, slack, cpu, passed, reason: sizeReason + cpuReason };
}

function cpuVerdict({ both, maxRatio }: { both: ReadonlyArray<{ candidate: AnswerCost; current: AnswerCost }>; maxRatio: number }): CpuCostReport {
  const compared = { cases: both.length, candidate: mean(both.map((pair) => pair.candidate.cpuSeconds!)), current: mean(both.map((pair) => pair.current.cpuSeconds!)) };
  const slack = COST_SLACK.cpuSeconds;
  return {
    compared,
    ratio: compared.cases > 0 && compared.current > 0 ? compared.candidate / compared.current : null,
    slack,
    passed: compared.cases === 0 || compared.candidate <= maxRatio * compared.current + slack,
  };
}
