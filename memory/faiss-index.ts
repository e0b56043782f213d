import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { CouncilError, type CouncilErrorCode, type Logger } from "../core/index.js";
import { FAISS_WORKER_SOURCE } from "./faiss-worker-source.js";

/** When and how the index becomes approximate (IVF with an HNSW coarse quantizer). */
export interface ApproxOptions {
  /** Rows at which flat search is replaced by IVF; 0 = always flat. @default 100_000 */
  threshold?: number;
  /** IVF lists; 0 = a power of two near 4·√rows. @default 0 */
  nlist?: number;
  /** Lists probed per search; 0 = max(8, nlist/32). @default 0 */
  nprobe?: number;
  /** Training vectors per list (k-means sample). @default 40 */
  trainPerList?: number;
}

export interface IndexStats {
  rows: number;
  kind: "flat" | "ivf";
  nlist: number;
  nprobe: number;
  /** Whether a BLAS library could be loaded (IVF training needs it). */
  blas: boolean;
  savedRows: number;
}

interface FaissIndexOptions {
  dimensions: number;
  indexPath: string;
  metaPath: string;
  dbPath: string;
  dbUuid: string;
  approx?: ApproxOptions;
  logger: Logger;
}

const require = createRequire(import.meta.url);
const BLAS_LIBRARIES = ["libopenblas.so.0", "libblas.so.3", "libopenblas.so", "libblas.so"];

function resolveNative(name: string): string {
  try {
    return require.resolve(name);
  } catch (cause) {
    throw new CouncilError("NATIVE_MISSING", `${name} is not installed; run npm run setup`, { cause });
  }
}

function errorFromWorker(text: string): CouncilError {
  const match = /^([A-Z_]+): (.*)$/s.exec(text);
  const code = (match?.[1] ?? "INTERNAL") as CouncilErrorCode;
  const known: CouncilErrorCode[] = ["VECTOR_INVALID", "MEMORY_CORRUPT"];
  return known.includes(code) ? new CouncilError(code, match![2]!) : new CouncilError("INTERNAL", `FAISS worker: ${text}`);
}

/**
 * A FAISS index owned by a worker thread, rebuilt from SQLite (the source of truth) whenever the saved
 * file is missing, torn, stale or outgrown. Requests are answered in order (FIFO), so a search sees
 * every add sent before it. All faiss-node input is validated before it crosses to the worker.
 */
export class FaissIndex {
  readonly #worker: Worker;
  readonly #options: FaissIndexOptions;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #nextId = 1;
  #failure: CouncilError | undefined;
  #builder: Promise<void> | undefined;
  #builderWorker: Worker | undefined;
  #stats: IndexStats | undefined;
  #closed = false;

  private constructor(options: FaissIndexOptions) {
    this.#options = options;
    this.#worker = FaissIndex.#spawn(options, "owner");
    this.#worker.on("message", (reply: { id: number; ok: boolean; value?: unknown; error?: string }) => {
      const waiter = this.#pending.get(reply.id);
      if (!waiter) return;
      this.#pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(errorFromWorker(reply.error ?? "unknown error"));
    });
    const broken = (cause: unknown) => {
      this.#failure = new CouncilError("BACKEND_UNAVAILABLE", "The FAISS worker stopped", { cause });
      for (const waiter of this.#pending.values()) waiter.reject(this.#failure);
      this.#pending.clear();
    };
    this.#worker.on("error", broken);
    this.#worker.on("exit", (code) => {
      if (!this.#closed) broken(new Error(`exit code ${code}`));
    });
  }

  static #spawn(options: FaissIndexOptions, role: "owner" | "builder"): Worker {
    const approx = { threshold: 100_000, nlist: 0, nprobe: 0, trainPerList: 40, ...options.approx };
    const workerData = {
      role,
      dims: options.dimensions,
      indexPath: options.indexPath,
      metaPath: options.metaPath,
      dbPath: options.dbPath,
      dbUuid: options.dbUuid,
      approx,
      blasLibraries: BLAS_LIBRARIES,
      faissPath: resolveNative("faiss-node"),
      sqlitePath: resolveNative("better-sqlite3"),
    };
    return new Worker(FAISS_WORKER_SOURCE, { eval: true, workerData });
  }

  /** Opens (or rebuilds, then saves) the index for the rows in `dbPath`. */
  static async create(options: FaissIndexOptions): Promise<FaissIndex> {
    if (!existsSync(options.dbPath)) throw new CouncilError("MEMORY_CORRUPT", `Memory database ${options.dbPath} does not exist`);
    // One-query search is ~30x faster without OpenMP's thread pool (libgomp reads this when faiss-node loads).
    // eslint-disable-next-line no-restricted-syntax
    if (process.env.OMP_NUM_THREADS === undefined) process.env.OMP_NUM_THREADS = "1";
    const index = new FaissIndex(options);
    try {
      const opened = await index.#call<IndexStats & { rebuilt: string | null; caughtUp: number }>("open", {});
      index.#stats = opened;
      options.logger.info({ rows: opened.rows, kind: opened.kind, rebuilt: opened.rebuilt, caughtUp: opened.caughtUp, blas: opened.blas }, "memory index opened");
    } catch (error) {
      await index.dispose();
      throw error;
    }
    return index;
  }

  get stats(): IndexStats {
    return { ...this.#stats! };
  }

  /** Appends vectors for labels firstLabel… (the worker catches up from SQLite if it missed any). */
  async add(firstLabel: number, vectors: Float32Array): Promise<void> {
    const result = await this.#call<IndexStats & { upgrade?: boolean }>("add", { firstLabel, vectors }, [vectors.buffer as ArrayBuffer]);
    this.#stats = result;
    if (result.upgrade) this.upgradeInBackground();
  }

  /** Reads rows another process added to SQLite. */
  async catchUp(): Promise<void> {
    this.#stats = await this.#call<IndexStats>("catchUp", {});
  }

  async search(vector: Float32Array, k: number): Promise<{ labels: number[]; distances: number[] }> {
    return this.#call("search", { vector: vector.slice(), k });
  }

  async save(): Promise<boolean> {
    if (this.#builder) return false;
    const result = await this.#call<IndexStats & { saved: boolean }>("save", {});
    this.#stats = result;
    return result.saved;
  }

  /**
   * Builds the approximate index in a second worker (searches keep using the current index meanwhile),
   * then swaps it in. Resolves when done; concurrent calls share one build.
   */
  upgradeInBackground(): Promise<void> {
    if (this.#builder) return this.#builder;
    this.#builder = new Promise<void>((resolve) => {
      const builder = FaissIndex.#spawn(this.#options, "builder");
      this.#builderWorker = builder;
      builder.on("message", (reply: { ok: boolean; value?: unknown }) => this.#options.logger.info({ built: reply.value }, "memory index: approximate index built"));
      builder.on("error", (error) => this.#options.logger.error({ err: error }, "memory index build failed; flat search continues"));
      builder.on("exit", () => resolve());
      this.#options.logger.info({}, "memory index: building the approximate index in the background");
    })
      .then(async () => {
        this.#builderWorker = undefined;
        if (this.#closed) return;
        const reloaded = await this.#call<IndexStats & { reloaded: boolean; reason?: string }>("reload", {});
        this.#stats = reloaded;
        this.#options.logger.info({ kind: reloaded.kind, rows: reloaded.rows, reloaded: reloaded.reloaded, reason: reloaded.reason }, "memory index: background build finished");
      })
      .finally(() => {
        this.#builder = undefined;
      });
    return this.#builder;
  }

  async dispose(): Promise<void> {
    if (this.#closed) return;
    if (this.#builderWorker) await this.#builderWorker.terminate();
    try {
      if (!this.#failure) await this.#call("close", {});
    } finally {
      this.#closed = true;
      await this.#worker.terminate();
    }
  }

  #call<T>(type: string, args: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(new CouncilError("BACKEND_UNAVAILABLE", "The memory index is disposed"));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#worker.postMessage({ id, type, ...args }, transfer);
    });
  }
}
