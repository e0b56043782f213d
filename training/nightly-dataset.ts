import { renderExample, type TemplateMessage } from "../models/prompt-template.js";

/** One example for the nightly adapter: exactly the messages the answerer saw, and the answer to train on. */
export interface NightlyExample {
  id: string;
  messages: readonly TemplateMessage[];
  answer: string;
}

export interface NightlyTrainingRow {
  id: string;
  /** `fix`: an accepted rewrite of a failed answer; `replay`: an answer that already passed, kept so the adapter does not unlearn it. */
  kind: "fix" | "replay";
  prompt: string;
  completion: string;
}

/**
 * The rows a night trains on: every fix, and up to ⌈replayRatio × fixes⌉ replayed passing answers (in the order
 * given), interleaved so each stretch of the file mixes both. Rendered with the serving template
 * ({@link renderExample}: the prompt the answerer sends, the answer, the stop marker), so the adapter learns the
 * task it serves.
 */
export function nightlyTrainingSet({ fixes, replay = [], replayRatio = 0 }: { fixes: readonly NightlyExample[]; replay?: readonly NightlyExample[]; replayRatio?: number }): NightlyTrainingRow[] {
  const fixIds = new Set(fixes.map((fix) => fix.id));
  const replayed = replay.filter((example) => !fixIds.has(example.id)).slice(0, Math.ceil(Math.max(0, replayRatio) * fixes.length));
  const rows: NightlyTrainingRow[] = [];
  const row = (example: NightlyExample, kind: NightlyTrainingRow["kind"]): NightlyTrainingRow => ({ id: example.id, kind, ...renderExample(example.messages, example.answer) });
  const per = fixes.length === 0 ? replayed.length : replayed.length / fixes.length;
  let next = 0;
  fixes.forEach((fix, index) => {
    rows.push(row(fix, "fix"));
    const until = Math.round((index + 1) * per);
    for (; next < until && next < replayed.length; next++) rows.push(row(replayed[next]!, "replay"));
  });
  for (; next < replayed.length; next++) rows.push(row(replayed[next]!, "replay"));
  return rows;
}

/** Epochs of a night: at least `epochs`, enough for `minSteps` optimizer steps (one per example), at most `maxEpochs`. */
export function nightlyEpochs({ examples, epochs, minSteps, maxEpochs }: { examples: number; epochs: number; minSteps: number; maxEpochs: number }): number {
  return Math.min(maxEpochs, Math.max(epochs, Math.ceil(minSteps / Math.max(1, examples))));
}
