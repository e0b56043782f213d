import type { AcceptedExample } from "../../training/datasets/index.js";
import type { TurnRecord } from "../../memory/index.js";
import type { ImprovePorts } from "./ports.js";
import type { EvalCase } from "./types.js";

/**
 * Whether a remembered turn can stand as a regression case: it succeeded, nobody rated it 👎, and its answer
 * passed the critic (`category` null: the critic clears the category when the score reaches the threshold).
 * A 👍 alone is not enough: a user's 👍 on a gibberish answer would make the gate fail correct candidates.
 */
export function isRegressionTurn(turn: TurnRecord): boolean {
  return turn.success && turn.feedback?.rating !== -1 && turn.category === null;
}

/** Earlier nights' accepted answers plus every turn that passed in memory (see isRegressionTurn), one case per question. */
export async function regressionCases(ports: Pick<ImprovePorts, "memory">, earlier: readonly AcceptedExample[]): Promise<EvalCase[]> {
  const cases = new Map<string, EvalCase>();
  for (const example of earlier) cases.set(example.question.toLowerCase(), { id: example.id, question: example.question, reference: example.chosen });
  for (const turn of await ports.memory.turns({})) {
    if (!isRegressionTurn(turn)) continue;
    const key = turn.question.toLowerCase();
    if (!cases.has(key)) cases.set(key, { id: turn.traceId, question: turn.question, reference: turn.answer });
  }
  return [...cases.values()];
}
