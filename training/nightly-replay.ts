import { renderExample, type TemplateMessage } from "../models/index.js";
import { words } from "./datasets/text-similarity.js";

/** One example for the nightly adapter: exactly the messages the answerer saw, and the answer to train on. */
export interface NightlyExample {
  id: string;
  messages: readonly TemplateMessage[];
  answer: string;
  /** The user's question (compared when picking replay); the last user message when absent. */
  question?: string;
}

export interface NightlyTrainingRow {
  id: string;
  /** `fix`: an accepted rewrite of a failed answer; `replay`: an answer that already passed, kept so the adapter does not unlearn it. */
  kind: "fix" | "replay";
  prompt: string;
  completion: string;
}

/** How replay is picked: `nearest` — round-robin over the fixes, each taking the unused passing answer whose question shares the most (rare) words with its own: what a fix is most likely to break; `first` — in the order given. */
export type ReplayPick = "nearest" | "first";

const questionOf = (example: NightlyExample) => example.question ?? [...example.messages].reverse().find((m) => m.role === "user")?.content ?? "";

/** Question words weighted by their rarity among all the questions (idf): "how do I … using" count for little, the command's name and the task's words for much. */
function pickNearest(fixes: readonly NightlyExample[], pool: readonly NightlyExample[], count: number): NightlyExample[] {
  const poolWords = pool.map((example) => new Set(words(questionOf(example))));
  const fixWords = fixes.map((fix) => new Set(words(questionOf(fix))));
  const df = new Map<string, number>();
  for (const set of [...poolWords, ...fixWords]) for (const word of set) df.set(word, (df.get(word) ?? 0) + 1);
  const total = poolWords.length + fixWords.length;
  const weight = (word: string) => Math.log(1 + total / (df.get(word) ?? 1));
  // the share of the fix's question (by weight) that the passing question repeats
  const similarity = (fix: ReadonlySet<string>, other: ReadonlySet<string>) => {
    let shared = 0;
    let all = 0;
    for (const word of fix) {
      all += weight(word);
      if (other.has(word)) shared += weight(word);
    }
    return all === 0 ? 0 : shared / all;
  };
  const used = new Set<number>();
  const picked: NightlyExample[] = [];
  while (picked.length < count && used.size < pool.length) {
    for (const own of fixWords) {
      if (picked.length >= count || used.size >= pool.length) break;
      let best = -1;
      let bestScore = -1;
      poolWords.forEach((other, index) => {
        if (used.has(index)) return;
        const score = similarity(own, other);
        if (score > bestScore) [best, bestScore] = [index, score];
      });
      used.add(best);
      picked.push(pool[best]!);
    }
  }
  return picked;
}

/**
 * The rows a night trains on: every fix, and up to ⌈replayRatio × fixes⌉ replayed passing answers (picked by
 * `pick`, nearest to the fixes by default), interleaved so each stretch of the file mixes both. Rendered with the serving template
 * ({@link renderExample}: the prompt the answerer sends, the answer, the stop marker), so the adapter learns the
 * task it serves.
 */
export function nightlyTrainingSet({ fixes, replay = [], replayRatio = 0, pick = "nearest" }: { fixes: readonly NightlyExample[]; replay?: readonly NightlyExample[]; replayRatio?: number; pick?: ReplayPick }): NightlyTrainingRow[] {
  const fixIds = new Set(fixes.map((fix) => fix.id));
  const pool = replay.filter((example) => !fixIds.has(example.id));
  const count = Math.min(pool.length, Math.ceil(Math.max(0, replayRatio) * fixes.length));
  const replayed = pick === "first" ? pool.slice(0, count) : pickNearest(fixes, pool, count);
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
