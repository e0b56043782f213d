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
  /** Ballots scoring it at or above `supportScore`. */
  supporters: number;
  /** Voters whose score is below `vetoScore`: one strong objection blocks acceptance. */
  vetoes: string[];
}

export interface RejectedBallot {
  index: number;
  reason: string;
}

/** What a vote decided, stored with the run and used for the DPO export. */
export interface VoteDecision {
  question: string | null;
  accepted: boolean;
  /** The best quorate candidate: supported by `quorum` voters and unvetoed first, then by mean score. */
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
  /**
   * A ballot at or above this supports its candidate; the winner needs `quorum` supporters to be accepted, so a
   * candidate nobody speaks for is never accepted however its mean comes out. @default 0.5
   */
  supportScore?: number;
  /** A ballot below this is a strong objection that blocks acceptance (0 turns vetoes off). @default 0.25 */
  vetoScore?: number;
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
export function tallyVotes({ ballots, candidateIds, quorum, acceptScore = 0.7, supportScore = 0.5, vetoScore = 0.25, failedAnswerId, question }: TallyOptions): VoteDecision {
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
    const supporters = mine.filter((ballot) => ballot.score >= supportScore).length;
    const vetoes = mine.filter((ballot) => ballot.score < vetoScore).map((ballot) => ballot.voter);
    return { candidateId, score, ballots: mine.length, quorate: mine.length >= quorum, supporters, vetoes };
  });
  candidates.sort((a, b) => b.score - a.score || b.ballots - a.ballots || a.candidateId.localeCompare(b.candidateId));
  const standing = (candidate: CandidateScore) => (candidate.supporters >= quorum ? 2 : 0) + (candidate.vetoes.length === 0 ? 1 : 0);
  const quorate = candidates.filter((candidate) => candidate.quorate);
  const top = [...quorate].sort((a, b) => standing(b) - standing(a))[0];
  if (top === undefined) {
    throw new CouncilError("QUORUM_NOT_REACHED", `No candidate got ${quorum} valid ballots (valid ballots: ${valid.length}, rejected: ${rejectedBallots.length}).`, {
      details: { quorum, valid: valid.length, rejected: rejectedBallots.length },
    });
  }
  const supported = top.supporters >= quorum;
  const accepted = top.score >= acceptScore && supported && top.vetoes.length === 0;
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
      ? `${top.candidateId} accepted with mean score ${top.score.toFixed(3)} ≥ ${acceptScore} from ${top.ballots} ballots, ${top.supporters} in support`
      : !supported
        ? `best candidate ${top.candidateId} has ${top.supporters} supporting ballot(s) (score ≥ ${supportScore}), fewer than the quorum of ${quorum}`
        : top.vetoes.length > 0
          ? `best candidate ${top.candidateId} is vetoed by ${top.vetoes.join(", ")} (score < ${vetoScore})`
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
  candidates: z.array(z.object({ candidateId: z.string(), score: z.number(), ballots: z.number().int(), quorate: z.boolean(), supporters: z.number().int().default(0), vetoes: z.array(z.string()).default([]) })),
  ballots: z.array(ballotSchema),
  rejectedBallots: z.array(z.object({ index: z.number().int(), reason: z.string() })),
  preference: z.object({ chosen: z.string(), rejected: z.string() }).nullable(),
  reason: z.string(),
});
