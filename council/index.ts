export { createCouncil, stableSlotSelector, type Council, type CreateCouncilOptions, type Disposable, type SelectAdapter } from "./create-council.js";
export { SessionHistory } from "./session-history.js";
export type { CouncilRuntime, TurnRequest, TurnResult, TurnStep } from "./types.js";
export { Improvement, type ImprovementOptions } from "./improvement.js";
export { createImprovementPorts, createProbeAnswerer, PROBE_PROMPTS, type ImprovementPortsOptions } from "./improvement-ports.js";
export { startAdapterServing, type AdapterServing, type AdapterServingOptions } from "./adapter-serving.js";
export { tallyVotes, ballotSchema, voteDecisionSchema, type Ballot as VoteBallot, type VoteDecision as TallyDecision } from "./voting/index.js";
export type { RunSummary } from "../graphs/improve/index.js";
export { createCouncilRuntime, type CouncilRuntimeBundle } from "./create-runtime.js";
