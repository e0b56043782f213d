export { ballotSchema, type Ballot } from "./ballot.js";
export { tallyVotes, voteDecisionSchema, type TallyOptions, type VoteDecision, type CandidateScore, type RejectedBallot } from "./tally.js";
