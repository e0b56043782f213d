export { buildDataset, DATASET_FILES, type AcceptedExample, type RatedExample, type BuildDatasetOptions, type DatasetManifest, type FilterReport } from "./build-dataset.js";
export { ContaminationIndex, CONTAMINATION_NGRAM, type EvalItem, type EvalSet, type ContaminationHit } from "./contamination.js";
export { applyUserCaps, type CapItem, type CapResult } from "./caps.js";
export { scrubPii, emptyPiiCounts, type PiiCounts, type PiiKind } from "./pii.js";
export { datasetManifestSchema, nightlyDataset, nightlyEpochs, nightlyDatasetSchema, readNightlyDataset, type NightlyDataset } from "./nightly-dataset.js";
export { readJsonl, loadEvalSet, evalItemSchema, acceptedExampleSchema } from "./load-jsonl.js";
export { normaliseText, normalisedHash, wordNgrams, words, jaccard } from "./text-similarity.js";
export { loadHeldOutPages, isHeldOutPage, findHeldOutLeaks, type HeldOutPages } from "./held-out.js";
