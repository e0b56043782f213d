import type { ReviewItem } from "../../graphs/improve/index.js";

/** What one key does in `council review`. */
export type ReviewKeyAction =
  | { kind: "accept"; candidateId: string }
  | { kind: "edit"; candidateId: string }
  | { kind: "reject" }
  | { kind: "skip" }
  | { kind: "quit" }
  | { kind: "unknown"; key: string };

/** Candidates in the order the screen numbers them: the council's winner first, then the rest as stored. */
export function orderedCandidates(item: ReviewItem): ReviewItem["candidates"] {
  return [...item.candidates].sort((a, b) => Number(b.id === item.winnerId) - Number(a.id === item.winnerId));
}

/** a = accept the best candidate, 1-9 = accept that one, e = edit the best, r = reject, s = skip, q = quit. */
export function reviewKeyAction(key: string, item: ReviewItem): ReviewKeyAction {
  const candidates = orderedCandidates(item);
  const best = candidates[0]!.id;
  if (key === "a") return { kind: "accept", candidateId: best };
  if (/^[1-9]$/.test(key)) {
    const chosen = candidates[Number(key) - 1];
    return chosen === undefined ? { kind: "unknown", key } : { kind: "accept", candidateId: chosen.id };
  }
  if (key === "e") return { kind: "edit", candidateId: best };
  if (key === "r") return { kind: "reject" };
  if (key === "s") return { kind: "skip" };
  if (key === "q" || key === "\u0003") return { kind: "quit" };
  return { kind: "unknown", key };
}

const indent = (text: string) => text.split("\n").map((line) => `    ${line}`).join("\n");

/** The screen for one pending item: question, failed answer, every candidate with its ballots, and the keys. */
export function renderReviewItem({ item, position, total }: { item: ReviewItem; position: number; total: number }): string {
  const lines = [
    `── review ${position}/${total}: ${item.id} (run ${item.runId}) ──`,
    `Question: ${item.question}`,
    `Failed answer:`,
    indent(item.failedAnswer),
    `Council: best ${item.winnerId} scored ${item.winnerScore.toFixed(2)}, not accepted: ${item.reason}`,
    "",
  ];
  orderedCandidates(item).forEach((candidate, index) => {
    const ballots = item.ballots.filter((ballot) => ballot.candidateId === candidate.id);
    const mean = ballots.length === 0 ? "no ballots" : `mean ${(ballots.reduce((sum, ballot) => sum + ballot.score, 0) / ballots.length).toFixed(2)}`;
    lines.push(`[${index + 1}] ${candidate.source}${candidate.id === item.winnerId ? " (council's best)" : ""}, ${mean}`);
    lines.push(indent(candidate.text));
    for (const ballot of ballots) lines.push(`      ${ballot.voter.padEnd(10)} ${ballot.score.toFixed(2)}  ${ballot.reason}`);
  });
  lines.push("", "a accept best · 1-9 accept that candidate · e edit · r reject · s skip · q quit");
  return lines.join("\n");
}
