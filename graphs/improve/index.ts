export { createImproveGraph, ImproveStateAnnotation, IMPROVE_NODES, type ImproveGraph, type ImproveGraphOptions, type ImproveState } from "./improve-graph.js";
export { runNightly, resolveApproval, listRuns, runSummarySchema, type RunSummary, type NightlyOptions } from "./run-nightly.js";
export { ImproveStore } from "./improve-store.js";
export { harvestFailures, type DroppedItem, type HarvestOptions, type HarvestResult } from "./harvest.js";
export { runGate, type AnswerPort, type GateOptions, type GateSuites } from "./gate.js";
export { judgeAnswer, tokenF1, REFERENCE_F1_PASS } from "./judge.js";
export type { ImprovePorts } from "./ports.js";
export type { Ballot, Candidate, EvalCase, GateReport, HarvestItem, RunOutcome, SuiteReport, TrainingResult, VoteDecision } from "./types.js";
