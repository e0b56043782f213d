export { createCouncil, stableSlotSelector, type Council, type CreateCouncilOptions, type Disposable, type SelectAdapter } from "./create-council.js";
export { SessionHistory } from "./session-history.js";
export type { CouncilRuntime, TurnRequest, TurnResult, TurnStep } from "./types.js";
