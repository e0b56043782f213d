import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { safeParseJson } from "../../core/index.js";
import { compileAccept, judgeAnswer, type BenchItem } from "./items.js";

const candidatesFileSchema = z.array(
  z.object({ itemId: z.string(), question: z.string(), kind: z.enum(["failure", "rated"]), candidates: z.array(z.object({ id: z.string(), text: z.string(), source: z.string() })) }),
);
const ballotsFileSchema = z.array(z.object({ itemId: z.string(), accepted: z.boolean(), winnerId: z.string().nullable() }).passthrough());

/** How well one night's Agent-0 and vote did, judged by the bench's accept regexes (ground truth). */
export interface NightQuality {
  /** Harvested failures that map to a bench item (by question). */
  failures: number;
  /** Share of those with at least one candidate that passes the item's regex (target ≥ 0.9). */
  right_candidate_share: number | null;
  /** Accepted rewrites that pass their regex ÷ accepted rewrites (target ≥ 0.9). */
  vote_precision: number | null;
  /** Failures with a passing candidate whose accepted winner passes ÷ failures with a passing candidate (target ≥ 0.7). */
  vote_recall: number | null;
  accepted: number;
}

const key = (question: string) => question.trim().toLowerCase().replace(/\s+/g, " ");

/** Reads `candidates.json` and `ballots.json` of a run folder; null when the run wrote neither (nothing harvested). */
export function nightQuality({ runDir, items }: { runDir: string; items: readonly BenchItem[] }): NightQuality | null {
  const candidatesPath = join(runDir, "candidates.json");
  const ballotsPath = join(runDir, "ballots.json");
  if (!existsSync(candidatesPath) || !existsSync(ballotsPath)) return null;
  const candidates = safeParseJson(readFileSync(candidatesPath, "utf8"), candidatesFileSchema);
  const ballots = safeParseJson(readFileSync(ballotsPath, "utf8"), ballotsFileSchema);
  if (!candidates.success || !ballots.success) return null;
  const byQuestion = new Map(items.map((item) => [key(item.question), { item, accept: compileAccept(item) }]));
  let failures = 0;
  let withRight = 0;
  let accepted = 0;
  let acceptedRight = 0;
  let recalled = 0;
  for (const group of candidates.value) {
    if (group.kind !== "failure") continue;
    const bench = byQuestion.get(key(group.question));
    if (bench === undefined) continue;
    failures++;
    const passes = (text: string) => judgeAnswer({ answer: text, accept: bench.accept });
    const anyRight = group.candidates.some((candidate) => passes(candidate.text));
    if (anyRight) withRight++;
    const decision = ballots.value.find((entry) => entry.itemId === group.itemId);
    if (decision?.accepted && decision.winnerId !== null) {
      accepted++;
      const winner = group.candidates.find((candidate) => candidate.id === decision.winnerId);
      const right = winner !== undefined && passes(winner.text);
      if (right) acceptedRight++;
      if (right && anyRight) recalled++;
    }
  }
  const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 1000) / 1000);
  return { failures, right_candidate_share: ratio(withRight, failures), vote_precision: ratio(acceptedRight, accepted), vote_recall: ratio(recalled, withRight), accepted };
}
