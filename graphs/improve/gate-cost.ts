/** One answer's cost as the gate measured it. `tokens` is absent when the answer port does not report them. */
export interface AnswerCost {
  text: string;
  latencyMs: number;
  tokens?: number;
}

/** Cost per answer of one side (candidate or current), averaged over every gate case. */
export interface SideCost {
  answers: number;
  /** Mean output tokens (or characters, see `unit`) per answer. */
  perAnswer: number;
  latencyMsPerAnswer: number;
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
  passed: boolean;
  reason: string;
}

/** Slack per unit: 16 tokens, or 64 characters (about 4 characters per token). */
export const COST_SLACK = { tokens: 16, characters: 64 } as const;

const mean = (values: readonly number[]) => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);

/**
 * Cost per answer, candidate vs current: mean output size and mean latency per answer. On the cases both sides
 * answer right, the candidate passes when its mean size ≤ maxRatio × current's + slack (an adapter that answers
 * as well but twice as long costs every user twice the generation time and tokens).
 */
export function costVerdict({ pairs, maxRatio }: { pairs: ReadonlyArray<{ candidate: AnswerCost & { pass: boolean }; current: AnswerCost & { pass: boolean } }>; maxRatio: number }): CostReport {
  const candidate = pairs.map((pair) => pair.candidate);
  const current = pairs.map((pair) => pair.current);
  const unit = [...candidate, ...current].every((answer) => answer.tokens !== undefined) ? "tokens" : "characters";
  const size = (answer: AnswerCost) => (unit === "tokens" ? answer.tokens! : answer.text.length);
  const side = (answers: readonly AnswerCost[]): SideCost => ({ answers: answers.length, perAnswer: mean(answers.map(size)), latencyMsPerAnswer: mean(answers.map((answer) => answer.latencyMs)) });
  const c = side(candidate);
  const k = side(current);
  const both = pairs.filter((pair) => pair.candidate.pass && pair.current.pass);
  const compared = { cases: both.length, candidate: mean(both.map((pair) => size(pair.candidate))), current: mean(both.map((pair) => size(pair.current))) };
  const slack = COST_SLACK[unit];
  const ratio = compared.cases > 0 && compared.current > 0 ? compared.candidate / compared.current : null;
  const passed = compared.cases === 0 || compared.candidate <= maxRatio * compared.current + slack;
  const overall = `${c.perAnswer.toFixed(1)} ${unit} and ${c.latencyMsPerAnswer.toFixed(0)} ms per answer vs current ${k.perAnswer.toFixed(1)} ${unit} and ${k.latencyMsPerAnswer.toFixed(0)} ms`;
  const like = `on the ${compared.cases} case(s) both answer right: ${compared.candidate.toFixed(1)} vs ${compared.current.toFixed(1)} ${unit}`;
  const reason =
    compared.cases === 0 ? `${overall}; no case both answer right, nothing to compare` : passed ? `${overall}; ${like} (ratio ${ratio === null ? "n/a" : ratio.toFixed(2)} ≤ ${maxRatio})` : `${overall}; ${like}, more than ${maxRatio} × current + ${slack} ${unit}`;
  return { unit, candidate: c, current: k, compared, ratio, maxRatio, slack, passed, reason };
}
