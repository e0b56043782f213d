import { checkShellCommand, commandsIn, hardChecks } from "../../agents/index.js";
import type { PassageHit } from "../../memory/index.js";
import type { Ballot } from "./ballot.js";
import { tallyVotes, type VoteDecision } from "./tally.js";
import { groundingBallot, intentBallot, peersBallot, type VoteCandidate } from "./voters.js";

/** A model's review of one candidate; undefined when no model judged it (the critic fell back to its heuristic). */
export type CriticJudge = (candidate: VoteCandidate) => Promise<{ score: number; reasons: readonly string[] } | undefined>;

export interface CouncilVoteOptions {
  question: string;
  candidates: readonly VoteCandidate[];
  /** Passages retrieved for the question: what the grounding voter checks against. */
  passages: readonly PassageHit[];
  /** The model critic, when there is one. Its heuristic fallback is no voter: it measures word overlap with the passages, which grounding already judges better. */
  critic?: CriticJudge;
  /** Supporters the winner needs. */
  quorum: number;
  /** @default 0.7 */
  acceptScore?: number;
}

export interface CouncilVote {
  accepted: boolean;
  winnerId: string | null;
  winnerScore: number;
  ballots: Ballot[];
  reason: string;
  /** The tally, when one was held (undefined when no candidate could stand). */
  tally?: VoteDecision;
  /** Candidates kept off the ballot, with why: same text as another candidate, or a command that does not parse. */
  excluded: Array<{ candidateId: string; reason: string }>;
}

/**
 * The council's vote on the candidate rewrites of one failed question. Candidates with the same text are one
 * candidate (sources merged: agreeing with yourself is no agreement); a candidate whose command does not parse,
 * or that is empty or unsafe, cannot stand. Independent voters then score each: **grounding** (the knowledge-base
 * unit the command comes from describes this question), **intent** (the answer itself covers the question, with
 * the tool and values it names), **peers** (another source gives the same command; silent otherwise) and the
 * model **critic** when a model judged. The tally accepts the best candidate only with `quorum` supporters (voters
 * scoring it at least `acceptScore` on their own), no strong objection and a mean of at least `acceptScore`.
 */
export async function councilVote({ question, candidates, passages, critic, quorum, acceptScore = 0.7 }: CouncilVoteOptions): Promise<CouncilVote> {
  const excluded: CouncilVote["excluded"] = [];
  const standing: Array<VoteCandidate & { sources: string[] }> = [];
  for (const candidate of candidates) {
    const text = candidate.text.trim().replace(/\s+/g, " ");
    const same = standing.find((other) => other.text.trim().replace(/\s+/g, " ") === text);
    if (same !== undefined) {
      if (!same.sources.includes(candidate.source)) same.sources.push(candidate.source);
      excluded.push({ candidateId: candidate.id, reason: `same text as ${same.id}` });
      continue;
    }
    const broken = commandsIn(candidate.text)
      .map((command) => ({ command, check: checkShellCommand(command) }))
      .find(({ check }) => !check.success);
    if (broken !== undefined && !broken.check.success) {
      excluded.push({ candidateId: candidate.id, reason: `\`${broken.command}\` is not a shell command: ${broken.check.error}` });
      continue;
    }
    const fatal = hardChecks({ answer: candidate.text }).find((check) => check.cap === 0);
    if (fatal !== undefined) {
      excluded.push({ candidateId: candidate.id, reason: fatal.reason });
      continue;
    }
    standing.push({ ...candidate, sources: [candidate.source] });
  }
  if (standing.length === 0) return { accepted: false, winnerId: null, winnerScore: 0, ballots: [], reason: "no candidate can stand", excluded };

  const ballots: Ballot[] = [];
  for (const candidate of standing) {
    ballots.push(groundingBallot({ question, candidate, passages }));
    ballots.push(intentBallot({ question, candidate, passages }));
    const peers = peersBallot({ candidate, others: standing });
    if (peers !== undefined) ballots.push(peers);
    const judged = critic === undefined ? undefined : await critic(candidate);
    if (judged !== undefined) ballots.push({ candidateId: candidate.id, voter: "critic", score: judged.score, reason: judged.reasons.join("; ") || "passes review" });
  }
  // A supporter is a voter that would accept the candidate on its own score.
  const tally = tallyVotes({ ballots, candidateIds: standing.map((candidate) => candidate.id), quorum, acceptScore, supportScore: acceptScore, question });
  return { accepted: tally.accepted, winnerId: tally.winner, winnerScore: tally.winnerScore, ballots: tally.ballots, reason: tally.reason, tally, excluded };
}
