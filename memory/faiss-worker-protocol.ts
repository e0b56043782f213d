// What crosses between FaissIndex (faiss-index.ts) and the FAISS worker (faiss-worker.ts): boot data, requests, replies.

/** Error codes the worker answers with (the host turns them into CouncilErrors of the same code). */
export type WorkerErrorCode = "VECTOR_INVALID" | "MEMORY_CORRUPT" | "INTERNAL";

/** A failure as the worker reports it. */
export interface WorkerError {
  code: WorkerErrorCode;
  message: string;
}

/** Approximate-search settings with every default filled in (see faiss-index.ts `ApproxOptions`). */
export interface WorkerApprox {
  threshold: number;
  nlist: number;
  nprobe: number;
  scanBudget: number;
  trainPerList: number;
}

/** One index: its vector length, files, the SQLite database it follows, and when it becomes approximate. */
export interface WorkerIndexConfig {
  dims: number;
  indexPath: string;
  metaPath: string;
  dbPath: string;
  dbUuid: string;
  approx: WorkerApprox;
}

/** What the worker thread (workerData) or the builder process (last argv) starts with. */
export interface WorkerBoot {
  blasLibraries: string[];
  faissPath: string;
  sqlitePath: string;
  /** The builder's one index. */
  config?: WorkerIndexConfig;
}

export interface WorkerStats {
  rows: number;
  kind: "flat" | "ivf";
  nlist: number;
  nprobe: number;
  blas: boolean;
  savedRows: number;
  builtRows: number;
}

/** Requests the host sends, one per index operation. */
export type WorkerRequest = { id: number; handle: number } & (
  | { type: "open"; config: WorkerIndexConfig }
  | { type: "reload" }
  | { type: "add"; firstLabel: number; vectors: Float32Array }
  | { type: "catchUp" }
  | { type: "search"; vector: Float32Array; k: number }
  | { type: "save" }
  | { type: "close" }
);

export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WorkerError };

/** `index.meta.json` beside a saved index: what the file must match to be loaded instead of rebuilt. */
export interface WorkerIndexMeta {
  version: number;
  dbUuid: string;
  dims: number;
  rows: number;
  builtRows: number;
  kind: WorkerStats["kind"];
  nlist: number;
  nprobe: number;
  bytes: number;
  sha256: string;
}
