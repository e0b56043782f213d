import { words } from "../../training/datasets/index.js";
import type { EvalCase } from "./types.js";

/** Token-level F1 between two texts (SQuAD-style, on normalised words). */
export function tokenF1(prediction: string, reference: string): number {
  const predicted = words(prediction);
  const expected = words(reference);
  if (predicted.length === 0 || expected.length === 0) return predicted.length === expected.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const word of expected) counts.set(word, (counts.get(word) ?? 0) + 1);
  let overlap = 0;
  for (const word of predicted) {
    const left = counts.get(word) ?? 0;
    if (left > 0) {
      overlap++;
      counts.set(word, left - 1);
    }
  }
  if (overlap === 0) return 0;
  const precision = overlap / predicted.length;
  const recall = overlap / expected.length;
  return (2 * precision * recall) / (precision + recall);
}

/** @default 0.5 */
export const REFERENCE_F1_PASS = 0.5;

/**
 * The command a reference answer gives: the first inline code span's first two words ("tar czf" from
 * "`tar czf path/to/target.tar.gz path/to/file1` — create …"), or undefined for prose.
 */
export function referenceCommand(reference: string): string | undefined {
  const code = /`([^`\n]+)`/.exec(reference)?.[1]?.trim();
  if (!code) return undefined;
  return code.split(/\s+/).slice(0, 2).join(" ");
}

/**
 * Whether an answer passes a case: any `reject` regex fails it; otherwise any `accept` regex passes it;
 * otherwise token F1 against `reference` ≥ {@link REFERENCE_F1_PASS} and, when the reference gives a command,
 * the answer contains that command ({@link referenceCommand}): restating the question around a garbled command
 * scores a high F1 but helps nobody. A case with none of these is an error.
 */
export function judgeAnswer(testCase: EvalCase, answer: string): boolean {
  if (testCase.reject?.some((pattern) => new RegExp(pattern, "i").test(answer))) return false;
  if (testCase.accept && testCase.accept.length > 0) return testCase.accept.some((pattern) => new RegExp(pattern, "i").test(answer));
  if (testCase.reference !== undefined) {
    const command = referenceCommand(testCase.reference);
    if (command !== undefined && !answer.replace(/\s+/g, " ").toLowerCase().includes(command.toLowerCase())) return false;
    return tokenF1(answer, testCase.reference) >= REFERENCE_F1_PASS;
  }
  if (testCase.reject) return true;
  throw new Error(`Eval case ${testCase.id} has no accept, reject or reference`);
}
