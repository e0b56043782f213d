import { describe, expect, it } from "vitest";
import { isCouncilError } from "../../core/index.js";
import { tallyVotes, voteDecisionSchema } from "./index.js";

const ballot = (candidateId: string, voter: string, score: number) => ({ candidateId, voter, score, reason: `${voter} on ${candidateId}` });

describe("tallyVotes", () => {
  it("picks the highest mean score and accepts it at or above the bar", () => {
    const decision = tallyVotes({
      candidateIds: ["a", "b"],
      quorum: 2,
      acceptScore: 0.7,
      failedAnswerId: "failed",
      ballots: [ballot("a", "critic", 0.9), ballot("a", "router", 0.5), ballot("b", "critic", 0.5), ballot("b", "router", 0.95)],
    });
    expect(decision.winner).toBe("b");
    expect(decision.winnerScore).toBeCloseTo(0.725);
    expect(decision.accepted).toBe(true);
    expect(decision.preference).toEqual({ chosen: "b", rejected: "failed" });
    expect(voteDecisionSchema.parse(JSON.parse(JSON.stringify(decision)))).toEqual(decision);
  });

  it("rejects a winner below the accept score and gives no preference pair", () => {
    const decision = tallyVotes({ candidateIds: ["a"], quorum: 2, ballots: [ballot("a", "x", 0.7), ballot("a", "y", 0.68)] });
    expect(decision.accepted).toBe(false);
    expect(decision.preference).toBeNull();
    expect(decision.reason).toMatch(/< 0.7/);
  });

  it("uses the lowest candidate as the DPO rejected side when there is no failed answer", () => {
    const decision = tallyVotes({ candidateIds: ["a", "b", "c"], quorum: 1, ballots: [ballot("a", "x", 0.9), ballot("b", "x", 0.1), ballot("c", "x", 0.5)] });
    expect(decision.preference).toEqual({ chosen: "a", rejected: "b" });
  });

  it("throws QUORUM_NOT_REACHED when invalid ballots leave too few", () => {
    let caught: unknown;
    try {
      tallyVotes({ candidateIds: ["a"], quorum: 2, ballots: [ballot("a", "x", 0.9), { candidateId: "a", voter: "y", score: 1.5, reason: "" }, "garbage"] });
    } catch (error) {
      caught = error;
    }
    expect(isCouncilError(caught, "QUORUM_NOT_REACHED")).toBe(true);
  });

  it("lists invalid and unknown-candidate ballots and never counts them", () => {
    const decision = tallyVotes({
      candidateIds: ["a"],
      quorum: 1,
      ballots: [ballot("a", "x", 0.8), { candidateId: "a", voter: "y", score: -1, reason: "" }, ballot("zzz", "y", 1)],
    });
    expect(decision.rejectedBallots.map((rejected) => rejected.index)).toEqual([1, 2]);
    expect(decision.candidates[0]).toMatchObject({ candidateId: "a", score: 0.8, ballots: 1 });
  });

  it("counts one ballot per voter and candidate (the last one wins)", () => {
    const decision = tallyVotes({ candidateIds: ["a"], quorum: 1, ballots: [ballot("a", "x", 1), ballot("a", "x", 1), ballot("a", "x", 0.2)] });
    expect(decision.candidates[0]).toMatchObject({ ballots: 1, score: 0.2 });
  });

  it("lets a quorate candidate win over a higher-scored one that lacks quorum", () => {
    const decision = tallyVotes({ candidateIds: ["a", "b"], quorum: 2, ballots: [ballot("a", "x", 1), ballot("b", "x", 0.8), ballot("b", "y", 0.8)] });
    expect(decision.winner).toBe("b");
  });

  it("never accepts a candidate with fewer than quorum supporters, however its mean comes out", () => {
    const decision = tallyVotes({ candidateIds: ["a"], quorum: 2, ballots: [ballot("a", "critic", 1), ballot("a", "grounding", 0.45)] });
    expect(decision.winnerScore).toBeCloseTo(0.725);
    expect(decision.candidates[0]).toMatchObject({ supporters: 1 });
    expect(decision.accepted).toBe(false);
    expect(decision.reason).toMatch(/1 supporting ballot\(s\).*fewer than the quorum of 2/);
  });

  it("lets one strong objection block acceptance", () => {
    const decision = tallyVotes({ candidateIds: ["a"], quorum: 2, ballots: [ballot("a", "x", 1), ballot("a", "y", 1), ballot("a", "grounding", 0.1)] });
    expect(decision.winnerScore).toBeCloseTo(0.7);
    expect(decision.accepted).toBe(false);
    expect(decision.reason).toMatch(/vetoed by grounding/);
  });

  it("prefers a supported, unvetoed candidate over a higher mean without support", () => {
    const decision = tallyVotes({
      candidateIds: ["loud", "sound"],
      quorum: 2,
      ballots: [ballot("loud", "x", 1), ballot("loud", "y", 0.4), ballot("sound", "x", 0.7), ballot("sound", "y", 0.7)],
    });
    expect(decision).toMatchObject({ winner: "sound", accepted: true });
  });
});
