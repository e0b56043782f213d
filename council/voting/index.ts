export { ballotSchema, type Ballot } from "./ballot.js";
export { councilVote, type CouncilVote, type CouncilVoteOptions, type CriticJudge } from "./council-vote.js";
export { tallyVotes, voteDecisionSchema, type TallyOptions, type VoteDecision, type CandidateScore, type RejectedBallot } from "./tally.js";
export { groundingBallot, intentBallot, peersBallot, type VoteCandidate, type VoterInput } from "./voters.js";
