import type BetterSqlite3 from "better-sqlite3";
import type * as Faiss from "faiss-node";
import type { WorkerBoot, WorkerError, WorkerErrorCode, WorkerIndexConfig, WorkerIndexMeta, WorkerReply, WorkerRequest, WorkerStats } from "./faiss-worker-protocol.js";

// The code that owns FAISS indexes, kept off the event loop (faiss-node calls are synchronous: a big search or an
// index build must never run on the main thread). It runs in two forms:
//
// - host (a worker thread, one per process, shared by every FaissMemory): holds any number of indexes, keyed by
//   handle, and answers each WorkerRequest with a WorkerReply (faiss-worker-protocol.ts), in order.
// - builder (a child *process*: `node -e FAISS_WORKER_SOURCE <json>`): builds one index from SQLite, saves it,
//   prints its stats and exits. The host then reloads the file. It is a process, not a second thread, because
//   faiss-node keeps its class constructors in static references overwritten by each thread that loads it: a
//   second thread loading faiss-node (and exiting) crashes the first on Index.read/fromBuffer.
// - inline (`faissThread: "main"`): called with a boot, it returns the host's request handler to run on the caller's
//   own thread (no worker; faiss-index.ts keeps a process from loading faiss-node in both).
//
// Labels are dense: FAISS label L holds the vector of SQLite row id L + 1 (rows are never deleted).

/**
 * The whole worker, as one self-contained function: it is serialised with `toString()` into
 * {@link FAISS_WORKER_SOURCE}, so it may use nothing from outside its body but its parameter and globals
 * (imports above are types only). It takes `require` from the CommonJS context it is evaluated in.
 */
export function faissWorkerMain(nodeRequire: NodeJS.Require, inlineBoot?: WorkerBoot): ((request: WorkerRequest) => WorkerReply) | undefined {
  const fs = nodeRequire("node:fs") as typeof import("node:fs");
  const path = nodeRequire("node:path") as typeof import("node:path");
  const crypto = nodeRequire("node:crypto") as typeof import("node:crypto");
  const os = nodeRequire("node:os") as typeof import("node:os");
  const threads = nodeRequire("node:worker_threads") as typeof import("node:worker_threads");

  const boot = inlineBoot ?? ((threads.isMainThread ? JSON.parse(process.argv[process.argv.length - 1]!) : threads.workerData) as WorkerBoot);
  const META_VERSION = 1;
  const BATCH = 4096;

  type Kind = WorkerStats["kind"];
  interface IndexState extends WorkerIndexConfig {
    db: BetterSqlite3.Database;
    rowsAfter: BetterSqlite3.Statement<[number, number], { id: number; vector: Buffer }>;
    sample: BetterSqlite3.Statement<[number, number], { vector: Buffer }>;
    maxIdStmt: BetterSqlite3.Statement<[], { n: number }>;
    index: Faiss.Index | null;
    kind: Kind;
    nlist: number;
    nprobe: number;
    savedRows: number;
    builtRows: number;
  }
  /** A failure with its code, caught by the message loop and answered as `{ code, message }`. */
  const failure = (code: WorkerErrorCode, message: string): Error & WorkerError => Object.assign(new Error(message), { code });
  const toWorkerError = (error: unknown): WorkerError => {
    const code = (error as Partial<WorkerError> | null)?.code;
    const message = String((error as Error | null)?.message ?? error);
    return code === "VECTOR_INVALID" || code === "MEMORY_CORRUPT" ? { code, message } : { code: "INTERNAL", message };
  };

  // The Debian-built faiss-node leaves BLAS symbols (sgemm_) unresolved: IVF training (or a batch search
  // of 20+ queries) would abort the process. Load a BLAS with RTLD_GLOBAL | RTLD_NODELETE first; Node's
  // dlopen then reports "did not self-register" (it is not an addon) but the library stays loaded.
  let blas = false;
  for (const lib of boot.blasLibraries) {
    try {
      process.dlopen({ exports: {} }, lib, 0x1000 | os.constants.dlopen.RTLD_NOW | os.constants.dlopen.RTLD_GLOBAL);
      blas = true;
    } catch (error) {
      if (/self-register/.test(String((error as Error | null)?.message))) blas = true;
    }
    if (blas) break;
  }
  const faiss = nodeRequire(boot.faissPath) as typeof Faiss;
  const Database = nodeRequire(boot.sqlitePath) as typeof BetterSqlite3;

  function openState(config: WorkerIndexConfig): IndexState {
    const db = new Database(config.dbPath, { readonly: true, fileMustExist: true });
    return {
      ...config,
      db,
      rowsAfter: db.prepare("SELECT id, vector FROM turns WHERE id > ? ORDER BY id LIMIT ?"),
      sample: db.prepare("SELECT vector FROM turns WHERE (id % ?) = 0 ORDER BY id LIMIT ?"),
      maxIdStmt: db.prepare("SELECT COALESCE(MAX(id), 0) AS n FROM turns"),
      index: null,
      kind: "flat",
      nlist: 0,
      nprobe: 0,
      savedRows: -1,
      builtRows: 0,
    };
  }

  const maxId = (s: IndexState): number => s.maxIdStmt.get()!.n;
  const wantsApprox = (s: IndexState, rows: number): boolean => blas && s.approx.threshold > 0 && rows >= s.approx.threshold;
  /** Flat grew past the threshold, or IVF grew 4x past the size its lists were sized for. */
  const outgrown = (s: IndexState, rows: number): boolean => (s.kind === "flat" ? wantsApprox(s, rows) : rows >= 4 * s.builtRows);
  const indexOf = (s: IndexState): Faiss.Index => {
    if (s.index === null) throw failure("INTERNAL", "the index is not built");
    return s.index;
  };

  /** About 4·√rows lists (nearest power of two), at least 39 training points per list. */
  function chooseNlist(s: IndexState, rows: number): number {
    if (s.approx.nlist > 0) return s.approx.nlist;
    const target = 4 * Math.sqrt(rows);
    let n = 64;
    while (n * 2 <= 16384 && Math.abs(n * 2 - target) < Math.abs(n - target)) n *= 2;
    while (n > 64 && n * 39 > rows) n /= 2;
    return n;
  }

  /** Lists probed: enough to scan about scanBudget vectors per query (latency stays flat as rows grow). */
  function chooseNprobe(s: IndexState, rows: number, nlist: number): number {
    if (s.approx.nprobe > 0) return Math.min(nlist, s.approx.nprobe);
    return Math.max(8, Math.min(nlist, Math.round(s.approx.scanBudget / (rows / nlist))));
  }

  function appendVector(s: IndexState, target: number[], offset: number, blob: Buffer): void {
    const dims = s.dims;
    if (!Buffer.isBuffer(blob) || blob.byteLength !== dims * 4) throw failure("MEMORY_CORRUPT", `a stored vector has ${blob ? blob.byteLength : 0} bytes, expected ${dims * 4}`);
    for (let i = 0; i < dims; i++) {
      const value = blob.readFloatLE(i * 4);
      if (!Number.isFinite(value)) throw failure("MEMORY_CORRUPT", "a stored vector holds a non-finite value");
      target[offset + i] = value;
    }
  }

  function catchUp(s: IndexState): number {
    const index = indexOf(s);
    let added = 0;
    for (;;) {
      const start = index.ntotal();
      const rows = s.rowsAfter.all(start, BATCH);
      if (rows.length === 0) break;
      const data = new Array<number>(rows.length * s.dims);
      rows.forEach((row, r) => {
        if (row.id !== start + r + 1) throw failure("MEMORY_CORRUPT", `row ids are not dense at ${row.id}`);
        appendVector(s, data, r * s.dims, row.vector);
      });
      index.add(data);
      added += rows.length;
    }
    return added;
  }

  function build(s: IndexState): void {
    const rows = maxId(s);
    s.builtRows = rows;
    if (wantsApprox(s, rows)) {
      s.nlist = chooseNlist(s, rows);
      s.nprobe = chooseNprobe(s, rows, s.nlist);
      const trained = faiss.Index.fromFactory(s.dims, `IVF${s.nlist}_HNSW32,Flat`, 0);
      const samples = Math.min(rows, s.nlist * s.approx.trainPerList);
      const step = Math.max(1, Math.floor(rows / samples));
      const sample = s.sample.all(step, samples);
      const data = new Array<number>(sample.length * s.dims);
      sample.forEach((row, r) => appendVector(s, data, r * s.dims, row.vector));
      trained.train(data);
      // faiss-node cannot set nprobe; it is serialised in the IVF header right after nlist: patch it there.
      const buffer = trained.toBuffer();
      if (buffer.toString("latin1", 0, 4) !== "IwFl" || buffer.readBigInt64LE(37) !== BigInt(s.nlist)) throw failure("INTERNAL", "unexpected IVF layout: cannot set nprobe");
      buffer.writeBigInt64LE(BigInt(s.nprobe), 45);
      s.index = faiss.Index.fromBuffer(buffer);
      s.kind = "ivf";
    } else {
      s.index = new faiss.IndexFlatIP(s.dims);
      s.kind = "flat";
      s.nlist = 0;
      s.nprobe = 0;
    }
    catchUp(s);
  }

  function sha256File(file: string): string {
    const hash = crypto.createHash("sha256");
    const fd = fs.openSync(file, "r");
    try {
      const chunk = Buffer.allocUnsafe(1 << 22);
      for (;;) {
        const read = fs.readSync(fd, chunk, 0, chunk.length, null);
        if (read === 0) break;
        hash.update(chunk.subarray(0, read));
      }
    } finally {
      fs.closeSync(fd);
    }
    return hash.digest("hex");
  }

  function fsyncPath(file: string): void {
    const fd = fs.openSync(file, "r");
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** temp → fsync → checksum → rename (index, then meta) → fsync folder. */
  function save(s: IndexState, suffix: string): boolean {
    const index = indexOf(s);
    const rows = index.ntotal();
    if (rows === s.savedRows) return false;
    const tmpIndex = s.indexPath + suffix;
    const tmpMeta = s.metaPath + suffix;
    fs.rmSync(tmpIndex, { force: true });
    index.write(tmpIndex);
    fsyncPath(tmpIndex);
    const meta: WorkerIndexMeta = { version: META_VERSION, dbUuid: s.dbUuid, dims: s.dims, rows, builtRows: s.builtRows, kind: s.kind, nlist: s.nlist, nprobe: s.nprobe, bytes: fs.statSync(tmpIndex).size, sha256: sha256File(tmpIndex) };
    fs.writeFileSync(tmpMeta, JSON.stringify(meta));
    fsyncPath(tmpMeta);
    // Index first, meta second: a crash in between leaves a new index with the old checksum -> rebuilt, never trusted.
    fs.renameSync(tmpIndex, s.indexPath);
    fs.renameSync(tmpMeta, s.metaPath);
    fsyncPath(path.dirname(s.indexPath));
    s.savedRows = rows;
    return true;
  }

  const HEADER_BYTES = 53;
  /** write_index_header: fourcc, d (int32), ntotal (int64), two dummies (int64), is_trained (u8), metric (int32). */
  const BODY_OFFSET = 37;
  const FOURCC: Record<Kind, string> = { flat: "IxFI", ivf: "IwFl" };

  /**
   * Checks the saved file's FAISS header against its metadata before faiss-node parses it: a file that passes
   * its checksum can still be another index type or dimension, or a format this libfaiss reads differently,
   * and faiss-node aborts the whole process on some input it does not expect. Returns why not, else null.
   */
  function headerProblem(s: IndexState, meta: WorkerIndexMeta): string | null {
    const expected = (FOURCC as Record<string, string | undefined>)[meta.kind];
    if (expected === undefined) return `index metadata names an unknown kind ${JSON.stringify(meta.kind)}`;
    const head = Buffer.alloc(HEADER_BYTES);
    const fd = fs.openSync(s.indexPath, "r");
    let read: number;
    try {
      read = fs.readSync(fd, head, 0, HEADER_BYTES, 0);
    } finally {
      fs.closeSync(fd);
    }
    if (read < BODY_OFFSET + 8) return "index file is too short for a FAISS header";
    const fourcc = head.toString("latin1", 0, 4);
    if (fourcc !== expected) return `index file is not a ${meta.kind} FAISS index (type ${JSON.stringify(fourcc)})`;
    if (head.readInt32LE(4) !== s.dims) return `index file has dimension ${head.readInt32LE(4)}, expected ${s.dims}`;
    if (head.readBigInt64LE(8) !== BigInt(meta.rows)) return `index file header holds ${head.readBigInt64LE(8)} rows, its metadata ${meta.rows}`;
    if (meta.kind === "flat" && meta.bytes !== BODY_OFFSET + 8 + meta.rows * s.dims * 4) return `flat index file has ${meta.bytes} bytes, not the size of ${meta.rows} vectors`;
    if (meta.kind === "ivf" && head.readBigInt64LE(BODY_OFFSET) !== BigInt(meta.nlist)) return "index file's IVF list count does not match its metadata";
    return null;
  }

  /** Loads the saved index when it is whole, current and of the right kind; returns why not otherwise. */
  function tryLoad(s: IndexState): string | null {
    if (!fs.existsSync(s.indexPath) || !fs.existsSync(s.metaPath)) return "no saved index";
    let meta: WorkerIndexMeta | null;
    try {
      meta = JSON.parse(fs.readFileSync(s.metaPath, "utf8")) as WorkerIndexMeta | null;
    } catch {
      return "index metadata unreadable";
    }
    if (!meta || meta.version !== META_VERSION || meta.dbUuid !== s.dbUuid || meta.dims !== s.dims || !Number.isInteger(meta.rows) || typeof meta.sha256 !== "string") return "index metadata does not match this database";
    if (fs.statSync(s.indexPath).size !== meta.bytes || sha256File(s.indexPath) !== meta.sha256) return "index file is torn or foreign (checksum mismatch)";
    const rows = maxId(s);
    if (meta.rows > rows) return "index holds more rows than the database";
    if (meta.kind === "flat" && wantsApprox(s, rows)) return "index outgrew flat search";
    if (meta.kind === "ivf" && !blas) return "approximate index needs BLAS, which is not loadable";
    if (meta.kind === "ivf" && (!Number.isInteger(meta.builtRows) || rows >= 4 * meta.builtRows)) return "index outgrew its IVF lists";
    const problem = headerProblem(s, meta);
    if (problem !== null) return problem;
    let loaded: Faiss.Index;
    // Any failure to parse (say, a file from another libfaiss) means: rebuild from SQLite, the source of truth.
    try {
      loaded = faiss.Index.read(s.indexPath);
    } catch (error) {
      return `index file does not parse: ${String((error as Error | null)?.message ?? error)}`;
    }
    if (loaded.ntotal() !== meta.rows || loaded.getDimension() !== s.dims) return "index row count or dimension mismatch";
    s.index = loaded;
    s.kind = meta.kind;
    s.nlist = meta.nlist;
    s.nprobe = meta.nprobe;
    s.builtRows = meta.builtRows;
    s.savedRows = meta.rows;
    return null;
  }

  const stats = (s: IndexState): WorkerStats => ({ rows: s.index ? s.index.ntotal() : 0, kind: s.kind, nlist: s.nlist, nprobe: s.nprobe, blas, savedRows: s.savedRows, builtRows: s.builtRows });

  const states = new Map<number, IndexState>();
  function state(handle: number): IndexState {
    const s = states.get(handle);
    if (!s) throw failure("INTERNAL", `index handle ${handle} is not open`);
    return s;
  }

  function handle(request: WorkerRequest): unknown {
    switch (request.type) {
      case "open": {
        const s = openState(request.config);
        states.set(request.handle, s);
        try {
          const reason = tryLoad(s);
          if (reason !== null) build(s);
          const caughtUp = catchUp(s);
          if (reason !== null) save(s, ".tmp");
          return { ...stats(s), rebuilt: reason, caughtUp };
        } catch (error) {
          states.delete(request.handle);
          s.db.close();
          throw error;
        }
      }
      case "reload": {
        const s = state(request.handle);
        const previous = { index: s.index, kind: s.kind, nlist: s.nlist, nprobe: s.nprobe, builtRows: s.builtRows, savedRows: s.savedRows };
        const reason = tryLoad(s);
        if (reason !== null) {
          Object.assign(s, previous);
          return { ...stats(s), reloaded: false, reason };
        }
        return { ...stats(s), reloaded: true, caughtUp: catchUp(s) };
      }
      case "add": {
        const s = state(request.handle);
        const index = indexOf(s);
        const { firstLabel, vectors } = request;
        if (firstLabel !== index.ntotal() || vectors.length % s.dims !== 0) return { ...stats(s), caughtUp: catchUp(s), upgrade: outgrown(s, index.ntotal()) };
        for (let i = 0; i < vectors.length; i++) if (!Number.isFinite(vectors[i])) throw failure("VECTOR_INVALID", "non-finite value");
        index.add(Array.from(vectors));
        return { ...stats(s), upgrade: outgrown(s, index.ntotal()) };
      }
      case "catchUp": {
        const s = state(request.handle);
        return { ...stats(s), caughtUp: catchUp(s) };
      }
      case "search": {
        const s = state(request.handle);
        const index = indexOf(s);
        const { vector, k } = request;
        if (!(vector instanceof Float32Array) || vector.length !== s.dims) throw failure("VECTOR_INVALID", "query has the wrong dimension");
        for (let i = 0; i < s.dims; i++) if (!Number.isFinite(vector[i])) throw failure("VECTOR_INVALID", "non-finite value");
        const take = Math.min(k, index.ntotal());
        if (take < 1) return { labels: [], distances: [] };
        const result = index.search(Array.from(vector), take);
        const labels: number[] = [];
        const distances: number[] = [];
        result.labels.forEach((label, i) => {
          if (label < 0) return;
          labels.push(label);
          distances.push(result.distances[i]!);
        });
        return { labels, distances };
      }
      case "save": {
        const s = state(request.handle);
        return { ...stats(s), saved: save(s, ".tmp") };
      }
      case "close": {
        const s = state(request.handle);
        states.delete(request.handle);
        try {
          return { saved: s.index ? save(s, ".tmp") : false };
        } finally {
          s.db.close();
        }
      }
    }
  }

  const answer = (request: WorkerRequest): WorkerReply => {
    try {
      return { id: request.id, ok: true, value: handle(request) };
    } catch (error) {
      return { id: request.id, ok: false, error: toWorkerError(error) };
    }
  };
  // Inline: the caller's thread is the host (faiss-index.ts, `faissThread: "main"`); it gets the request handler.
  if (inlineBoot) return answer;
  if (threads.isMainThread) {
    if (boot.config === undefined) throw failure("INTERNAL", "the builder needs an index config");
    const s = openState(boot.config);
    build(s);
    save(s, ".build");
    s.db.close();
    process.stdout.write(JSON.stringify(stats(s)) + "\n");
  } else {
    const port = threads.parentPort!;
    port.on("message", (request: WorkerRequest) => port.postMessage(answer(request)));
  }
  return undefined;
}

/**
 * {@link faissWorkerMain} as CommonJS source for `new Worker(…, { eval: true })` and `node -e`: it runs the same under
 * tsx, vitest and compiled dist/ with no loader. `__name` stands in for the helper esbuild (tsx, vitest) adds to keep
 * function names; compiled code does not use it.
 */
export const FAISS_WORKER_SOURCE = `"use strict";\nvar __name = (target) => target;\n(${faissWorkerMain.toString()})(require);\n`;
