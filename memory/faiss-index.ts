import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { CouncilError, type Logger } from "../core/index.js";
import type { WorkerBoot, WorkerError, WorkerIndexConfig, WorkerReply, WorkerRequest } from "./faiss-worker-protocol.js";
import { FAISS_WORKER_SOURCE, faissWorkerMain } from "./faiss-worker.js";

/**
 * Which thread runs faiss-node calls: `worker` (one worker thread per process; the event loop never runs FAISS) or
 * `main` (the event loop itself: no thread hop per search, but every search, add and save blocks the loop while
 * it runs). Background builds run in a child process either way. One choice per process: faiss-node must not be
 * loaded by two threads.
 */
export type FaissThread = "worker" | "main";

/** When and how the index becomes approximate (IVF with an HNSW coarse quantizer). */
export interface ApproxOptions {
  /** Rows at which flat search is replaced by IVF; 0 = always flat. @default 100_000 */
  threshold?: number;
  /** IVF lists; 0 = the power of two nearest 4·√rows (at most rows/39). @default 0 */
  nlist?: number;
  /** Lists probed per search; 0 = enough to scan about `scanBudget` vectors (at least 8). @default 0 */
  nprobe?: number;
  /** Vectors scanned per search when nprobe is chosen automatically. @default 4096 */
  scanBudget?: number;
  /** Training vectors per list (k-means sample; FAISS wants at least 39). @default 39 */
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
  /** Rows when the index was built (IVF lists are sized for it; rebuilt at 4x). */
  builtRows: number;
  /** Why the index was rebuilt when it was opened (null: the saved file was whole and current). */
  rebuilt?: string | null;
}

interface FaissIndexOptions {
  dimensions: number;
  indexPath: string;
  metaPath: string;
  dbPath: string;
  dbUuid: string;
  approx?: ApproxOptions;
  /** @default "worker" */
  faissThread?: FaissThread;
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

/** The worker's `{ code, message }` as a CouncilError of the same code. */
export function errorFromWorker({ code, message }: WorkerError): CouncilError {
  return code === "INTERNAL" ? new CouncilError("INTERNAL", `FAISS worker: ${message}`) : new CouncilError(code, message);
}

/** Where requests for the process's open indexes go, answered in order. */
interface Host {
  call<T>(type: string, args: Record<string, unknown>, transfer?: ArrayBuffer[]): Promise<T>;
  release(): Promise<void>;
}

/** The thread that loaded faiss-node in this process, if any (it may not be loaded by another). */
let faissLoadedIn: FaissThread | undefined;

function claimFaissThread(thread: FaissThread): void {
  if (faissLoadedIn !== undefined && faissLoadedIn !== thread) {
    throw new CouncilError("CONFIG_INVALID", `faiss-node is already loaded in this process's ${faissLoadedIn} thread; it cannot also run in the ${thread} thread (one faissThread per process)`);
  }
  faissLoadedIn = thread;
  // One-query search is ~30x faster without OpenMP's thread pool (libgomp reads this when faiss-node loads).
  // eslint-disable-next-line no-restricted-syntax
  if (process.env.OMP_NUM_THREADS === undefined) process.env.OMP_NUM_THREADS = "1";
}

/**
 * faiss-node on the calling (main) thread: each request runs synchronously, with the same handler and input
 * checks as the worker. Loaded on first use and kept for the life of the process.
 */
class InlineHost implements Host {
  static #answer: ((request: WorkerRequest) => WorkerReply) | undefined;
  static #nextHandle = 1;
  #nextId = 1;

  static acquire(): { host: Host; handle: number } {
    if (!InlineHost.#answer) {
      claimFaissThread("main");
      InlineHost.#answer = faissWorkerMain(require, bootData());
    }
    return { host: new InlineHost(), handle: InlineHost.#nextHandle++ };
  }

  call<T>(type: string, args: Record<string, unknown>): Promise<T> {
    const reply = InlineHost.#answer!({ id: this.#nextId++, type, ...args } as WorkerRequest);
    return reply.ok ? Promise.resolve(reply.value as T) : Promise.reject(errorFromWorker(reply.error));
  }

  release(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The one worker thread per process that loads faiss-node and holds every open index (faiss-node must
 * not be loaded by two threads: see faiss-worker.ts). Started on first use, stopped when the
 * last index is disposed. Requests are answered in order.
 */
class FaissHost implements Host {
  static #current: FaissHost | undefined;
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #nextId = 1;
  #handles = 0;
  #failure: CouncilError | undefined;
  #stopping = false;

  private constructor() {
    claimFaissThread("worker");
    this.#worker = new Worker(FAISS_WORKER_SOURCE, { eval: true, workerData: bootData(), resourceLimits: { stackSizeMb: 64 } });
    this.#worker.on("message", (reply: WorkerReply) => {
      const waiter = this.#pending.get(reply.id);
      if (!waiter) return;
      this.#pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(errorFromWorker(reply.error));
    });
    const broken = (cause: unknown) => {
      this.#failure = new CouncilError("BACKEND_UNAVAILABLE", "The FAISS worker stopped", { cause });
      for (const waiter of this.#pending.values()) waiter.reject(this.#failure);
      this.#pending.clear();
      if (FaissHost.#current === this) FaissHost.#current = undefined;
    };
    this.#worker.on("error", broken);
    this.#worker.on("exit", (code) => {
      if (!this.#stopping) broken(new Error(`exit code ${code}`));
    });
  }

  static acquire(): { host: Host; handle: number } {
    if (!FaissHost.#current || FaissHost.#current.#stopping) FaissHost.#current = new FaissHost();
    const host = FaissHost.#current;
    host.#handles++;
    return { host, handle: host.#nextId++ };
  }

  async release(): Promise<void> {
    if (--this.#handles > 0) return;
    this.#stopping = true;
    if (FaissHost.#current === this) FaissHost.#current = undefined;
    await this.#worker.terminate();
  }

  call<T>(type: string, args: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#worker.postMessage({ id, type, ...args }, transfer);
    });
  }
}

function bootData(): WorkerBoot {
  return { blasLibraries: BLAS_LIBRARIES, faissPath: resolveNative("faiss-node"), sqlitePath: resolveNative("better-sqlite3") };
}

/**
 * One FAISS index, held by the process's FAISS worker and rebuilt from SQLite (the source of truth)
 * whenever the saved file is missing, torn, stale or outgrown. A search sees every add sent before it.
 * All faiss-node input is validated before it crosses to the worker.
 */
export class FaissIndex {
  readonly #host: Host;
  readonly #handle: number;
  readonly #options: FaissIndexOptions;
  readonly #config: WorkerIndexConfig;
  #builder: Promise<void> | undefined;
  #builderProcess: ReturnType<typeof spawn> | undefined;
  #stats: IndexStats | undefined;
  #rebuilt: string | null = null;
  #closed = false;

  private constructor(options: FaissIndexOptions) {
    this.#options = options;
    this.#config = {
      dims: options.dimensions,
      indexPath: options.indexPath,
      metaPath: options.metaPath,
      dbPath: options.dbPath,
      dbUuid: options.dbUuid,
      approx: { threshold: 100_000, nlist: 0, nprobe: 0, scanBudget: 4096, trainPerList: 39, ...options.approx },
    };
    ({ host: this.#host, handle: this.#handle } = options.faissThread === "main" ? InlineHost.acquire() : FaissHost.acquire());
  }

  /** Opens (or rebuilds, then saves) the index for the rows in `dbPath`. */
  static async create(options: FaissIndexOptions): Promise<FaissIndex> {
    if (!existsSync(options.dbPath)) throw new CouncilError("MEMORY_CORRUPT", `Memory database ${options.dbPath} does not exist`);
    const index = new FaissIndex(options);
    try {
      const opened = await index.#call<IndexStats & { rebuilt: string | null; caughtUp: number }>("open", { config: index.#config });
      index.#stats = opened;
      index.#rebuilt = opened.rebuilt;
      const fields = { rows: opened.rows, kind: opened.kind, rebuilt: opened.rebuilt, caughtUp: opened.caughtUp, blas: opened.blas };
      if (opened.rebuilt === null || opened.rebuilt === "no saved index") options.logger.info(fields, "memory index opened");
      else options.logger.warn(fields, "memory index file not usable; rebuilt from SQLite");
    } catch (error) {
      index.#closed = true;
      await index.#host.release();
      throw error;
    }
    return index;
  }

  get stats(): IndexStats {
    return { ...this.#stats!, rebuilt: this.#rebuilt };
  }

  /** Appends vectors for labels firstLabel… (the worker catches up from SQLite if it missed any). */
  async add(firstLabel: number, vectors: Float32Array): Promise<void> {
    const result = await this.#call<IndexStats & { upgrade?: boolean }>("add", { firstLabel, vectors }, [vectors.buffer as ArrayBuffer]);
    this.#stats = result;
    if (result.upgrade) void this.upgradeInBackground();
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
   * Builds the index the current size calls for (IVF past the threshold) in a child process while
   * searches keep using the current index, then swaps it in. Concurrent calls share one build.
   */
  upgradeInBackground(): Promise<void> {
    if (this.#builder) return this.#builder;
    const { logger } = this.#options;
    this.#builder = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ["-e", FAISS_WORKER_SOURCE, JSON.stringify({ ...bootData(), config: this.#config })], { stdio: ["ignore", "pipe", "pipe"] });
      this.#builderProcess = child;
      let stdout = "";
      let stderr = "";
      child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.on("close", (code) => resolve({ code, stdout, stderr }));
      logger.info({}, "memory index: building the approximate index in the background");
    })
      .then(async ({ code, stderr }) => {
        this.#builderProcess = undefined;
        if (code !== 0) {
          logger.error({ code, stderr: stderr.slice(-2000) }, "memory index build failed; the current index keeps serving");
          return;
        }
        if (this.#closed) return;
        const reloaded = await this.#call<IndexStats & { reloaded: boolean; reason?: string }>("reload", {});
        this.#stats = reloaded;
        logger.info({ kind: reloaded.kind, rows: reloaded.rows, reloaded: reloaded.reloaded, reason: reloaded.reason }, "memory index: background build finished");
      })
      .finally(() => {
        this.#builder = undefined;
      });
    return this.#builder;
  }

  async dispose(): Promise<void> {
    if (this.#closed) return;
    if (this.#builderProcess) {
      this.#builderProcess.kill("SIGKILL");
      await this.#builder;
    }
    try {
      await this.#call("close", {});
    } finally {
      this.#closed = true;
      await this.#host.release();
    }
  }

  #call<T>(type: string, args: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.#closed) return Promise.reject(new CouncilError("BACKEND_UNAVAILABLE", "The memory index is disposed"));
    return this.#host.call<T>(type, { handle: this.#handle, ...args }, transfer);
  }
}
