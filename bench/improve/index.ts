export { benchItemSchema, compileAccept, judgeAnswer, parseItemsJsonl, loadItemsJsonl, itemsToJsonl, type BenchItem } from "./items.js";
export {
  DEFAULT_TLDR_PAGES,
  buildTldrBench,
  deriveAccept,
  parseTldrPage,
  rephraseQuestion,
  trafficQuestion,
  withoutEvalExamples,
  type TldrBench,
  type TldrExample,
  type TldrItem,
} from "./tldr.js";
export { successRate, repeatFailureRate, regressionKept, cycleResult, type DayOutcome, type CycleResult, type ImproveResults } from "./cycle-stats.js";
export { renderChart } from "./chart.js";
export { runImproveBench, type ImproveBenchOptions, type TrafficItem } from "./run-improve-bench.js";
