import { z } from "zod";
import { CouncilError } from "../../core/index.js";
import { ballotSchema, type Ballot } from "./ballot.js";

export interface CandidateScore {
  candidateId: string;
  /** Mean score of the valid ballots for this candidate (one ballot per voter; a later ballot replaces an earlier one). */
  score: number;
  ballots: number;
  /** False when fewer than `quorum` valid ballots were cast for it; such a candidate cannot win. */
  quorate: boolean;
}

export interface RejectedBallot {
  index: number;
  reason: string;
}

/** What a vote decided, stored with the run and used for the DPO export. */
export interface VoteDecision {
  question: string | null;
  accepted: boolean;
  /** The candidate with the highest mean score among quorate candidates. */
  winner: string;
  winnerScore: number;
  acceptScore: number;
  quorum: number;
  /** Highest first (ties broken by more ballots, then candidate id for determinism). */
  candidates: CandidateScore[];
  ballots: Ballot[];
  rejectedBallots: RejectedBallot[];
  /** DPO pair: chosen = winner; rejected = the failed answer when there is one, else the lowest-scored candidate. */
  preference: { chosen: string; rejected: string } | null;
  reason: string;
}

export interface TallyOptions {
  /** Raw ballots (validated here; invalid ones are listed in `rejectedBallots`, never counted). */
  ballots: readonly unknown[];
  /** Every candidate on the ballot, so a candidate nobody voted for still shows (with 0 ballots). */
  candidateIds: readonly string[];
  /** Valid ballots a candidate needs before it can win (config.improve.voteQuorum). */
  quorum: number;
  /** The winner's mean score must reach this to be accepted (config.improve.voteAcceptScore). @default 0.7 */
  acceptScore?: number;
  /** Id of the original failed answer, the preferred DPO `rejected` side. */
  failedAnswerId?: string;
  question?: string;
}

/**
 * Tallies ballots by **score-weighted mean**: each candidate's score is the mean of its voters' scores in [0, 1].
 *
 * Why not Borda: Borda count ranks candidates relative to each other, so it always produces a winner even when
 * every candidate is bad, and it throws away *how* good the winner is. Acceptance here is an absolute bar
 * ("the winner scores ≥ 0.7"), which needs a calibrated score, not a rank. The mean also tolerates voters who
 * saw only some candidates (Borda needs complete rankings) and one extreme voter moves it by at most 1/n.
 *
 * Throws `QUORUM_NOT_REACHED` when no candidate has `quorum` valid ballots.
 */
export function tallyVotes({ ballots, candidateIds, quorum, acceptScore = 0.7, failedAnswerId, question }: TallyOptions): VoteDecision {
  if (!Number.isInteger(quorum) || quorum < 1) throw new CouncilError("CONFIG_INVALID", `Vote quorum must be a positive integer, got ${quorum}.`);
  const known = new Set(candidateIds);
  const rejectedBallots: RejectedBallot[] = [];
  const byKey = new Map<string, Ballot>();
  ballots.forEach((raw, index) => {
    const parsed = ballotSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      rejectedBallots.push({ index, reason: `${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}` });
      return;
    }
    if (!known.has(parsed.data.candidateId)) {
      rejectedBallots.push({ index, reason: `unknown candidate ${parsed.data.candidateId}` });
      return;
    }
    byKey.set(`${parsed.data.voter}\u0000${parsed.data.candidateId}`, parsed.data);
  });
  const valid = [...byKey.values()];
  const candidates: CandidateScore[] = [...known].map((candidateId) => {
    const mine = valid.filter((ballot) => ballot.candidateId === candidateId);
    const score = mine.length === 0 ? 0 : mine.reduce((sum, ballot) => sum + ballot.score, 0) / mine.length;
    return { candidateId, score, ballots: mine.length, quorate: mine.length >= quorum };
  });
  candidates.sort((a, b) => b.score - a.score || b.ballots - a.ballots || a.candidateId.localeCompare(b.candidateId));
  const quorate = candidates.filter((candidate) => candidate.quorate);
  const top = quorate[0];
  if (top === undefined) {
    throw new CouncilError("QUORUM_NOT_REACHED", `No candidate got ${quorum} valid ballots (valid ballots: ${valid.length}, rejected: ${rejectedBallots.length}).`, {
      details: { quorum, valid: valid.length, rejected: rejectedBallots.length },
    });
  }
  const accepted = top.score >= acceptScore;
  const lowest = quorate.length > 1 ? quorate[quorate.length - 1] : undefined;
  const rejectedSide = failedAnswerId ?? lowest?.candidateId;
  return {
    question: question ?? null,
    accepted,
    winner: top.candidateId,
    winnerScore: top.score,
    acceptScore,
    quorum,
    candidates,
    ballots: valid,
    rejectedBallots,
    preference: accepted && rejectedSide !== undefined && rejectedSide !== top.candidateId ? { chosen: top.candidateId, rejected: rejectedSide } : null,
    reason: accepted
      ? `${top.candidateId} accepted with mean score ${top.score.toFixed(3)} ≥ ${acceptScore} from ${top.ballots} ballots`
      : `best candidate ${top.candidateId} scored ${top.score.toFixed(3)} < ${acceptScore}`,
  };
}

/** Schema for a stored decision record (reading runs back from disk). */
export const voteDecisionSchema = z.object({
  question: z.string().nullable(),
  accepted: z.boolean(),
  winner: z.string(),
  winnerScore: z.number(),
  acceptScore: z.number(),
  quorum: z.number().int(),
  candidates: z.array(z.object({ candidateId: z.string(), score: z.number(), ballots: z.number().int(), quorate: z.boolean() })),
  ballots: z.array(ballotSchema),
  rejectedBallots: z.array(z.object({ index: z.number().int(), reason: z.string() })),
  preference: z.object({ chosen: z.string(), rejected: z.string() }).nullable(),
  reason: z.string(),
});
