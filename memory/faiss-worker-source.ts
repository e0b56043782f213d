/**
 * The worker thread that owns the FAISS index (faiss-node calls are synchronous: a 1M-vector search or an
 * index build must never run on the event loop). Plain CommonJS source, run with `new Worker(src, { eval: true })`
 * so it works the same under tsx, vitest and compiled dist/ without a loader.
 *
 * Protocol: `{ id, type, ...args }` → `{ id, ok: true, value } | { id, ok: false, error }`.
 * Labels are dense: FAISS label L holds the vector of SQLite row id L + 1 (rows are never deleted).
 *
 * Role "owner" keeps an index open and answers add / search / save / reload / stats.
 * Role "builder" builds a fresh index from SQLite, saves it, answers `built` and exits (used to move to
 * the approximate index in the background without stalling searches).
 */
export const FAISS_WORKER_SOURCE = String.raw`
"use strict";
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
const path = require("node:path");
const crypto = require("node:crypto");
const os = require("node:os");

const { dims, indexPath, metaPath, dbPath, dbUuid, approx, role } = workerData;
const META_VERSION = 1;
const BATCH = 4096;

// The Debian-built faiss-node leaves BLAS symbols (sgemm_) unresolved: any IVF training (or a batch search
// of 20+ queries) would abort the process. Load a BLAS with RTLD_GLOBAL | RTLD_NODELETE first; Node's
// dlopen then reports "did not self-register" (it is not an addon) but the library stays loaded.
let blas = false;
for (const lib of workerData.blasLibraries) {
  try {
    process.dlopen({ exports: {} }, lib, 0x1000 | os.constants.dlopen.RTLD_NOW | os.constants.dlopen.RTLD_GLOBAL);
    blas = true;
  } catch (error) {
    if (/self-register/.test(String(error && error.message))) blas = true;
  }
  if (blas) break;
}
const faiss = require(workerData.faissPath);
const Database = require(workerData.sqlitePath);
const db = new Database(dbPath, { readonly: true, fileMustExist: true });
const rowsAfter = db.prepare("SELECT id, vector FROM turns WHERE id > ? ORDER BY id LIMIT ?");
const sampleStmt = db.prepare("SELECT vector FROM turns WHERE (id % ?) = 0 ORDER BY id LIMIT ?");
const maxIdStmt = db.prepare("SELECT COALESCE(MAX(id), 0) AS n FROM turns");

let index = null;
let kind = "flat";
let nlist = 0;
let nprobe = 0;
let savedRows = -1;

function maxId() { return maxIdStmt.get().n; }

function wantsApprox(rows) { return blas && approx.threshold > 0 && rows >= approx.threshold; }

function chooseNlist(rows) {
  if (approx.nlist > 0) return approx.nlist;
  let n = 1;
  while (n * 2 <= 4 * Math.sqrt(rows)) n *= 2;
  return Math.max(64, Math.min(n, 16384, Math.floor(rows / 39)));
}

function appendVector(target, offset, blob) {
  if (!Buffer.isBuffer(blob) || blob.byteLength !== dims * 4) throw new Error("MEMORY_CORRUPT: a stored vector has " + (blob ? blob.byteLength : 0) + " bytes, expected " + dims * 4);
  for (let i = 0; i < dims; i++) {
    const value = blob.readFloatLE(i * 4);
    if (!Number.isFinite(value)) throw new Error("MEMORY_CORRUPT: a stored vector holds a non-finite value");
    target[offset + i] = value;
  }
}

function catchUp() {
  let added = 0;
  for (;;) {
    const start = index.ntotal();
    const rows = rowsAfter.all(start, BATCH);
    if (rows.length === 0) break;
    const data = new Array(rows.length * dims);
    for (let r = 0; r < rows.length; r++) {
      if (rows[r].id !== start + r + 1) throw new Error("MEMORY_CORRUPT: row ids are not dense at " + rows[r].id);
      appendVector(data, r * dims, rows[r].vector);
    }
    index.add(data);
    added += rows.length;
  }
  return added;
}

function build() {
  const rows = maxId();
  if (wantsApprox(rows)) {
    nlist = chooseNlist(rows);
    nprobe = Math.min(nlist, approx.nprobe > 0 ? approx.nprobe : Math.max(8, Math.round(nlist / 32)));
    const trained = faiss.Index.fromFactory(dims, "IVF" + nlist + "_HNSW32,Flat", 0);
    const samples = Math.min(rows, nlist * approx.trainPerList);
    const step = Math.max(1, Math.floor(rows / samples));
    const sample = sampleStmt.all(step, samples);
    const data = new Array(sample.length * dims);
    sample.forEach((row, r) => appendVector(data, r * dims, row.vector));
    trained.train(data);
    // faiss-node cannot set nprobe; it is serialised in the IVF header right after nlist: patch it there.
    const buffer = trained.toBuffer();
    if (buffer.toString("latin1", 0, 4) !== "IwFl" || buffer.readBigInt64LE(37) !== BigInt(nlist)) throw new Error("unexpected IVF layout: cannot set nprobe");
    buffer.writeBigInt64LE(BigInt(nprobe), 45);
    index = faiss.Index.fromBuffer(buffer);
    kind = "ivf";
  } else {
    index = new faiss.IndexFlatIP(dims);
    kind = "flat";
    nlist = 0;
    nprobe = 0;
  }
  catchUp();
}

function sha256File(file) {
  const hash = crypto.createHash("sha256");
  const fd = fs.openSync(file, "r");
  try {
    const chunk = Buffer.allocUnsafe(1 << 22);
    for (;;) {
      const read = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      hash.update(chunk.subarray(0, read));
    }
  } finally { fs.closeSync(fd); }
  return hash.digest("hex");
}

function fsyncPath(file, flags) {
  const fd = fs.openSync(file, flags);
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
}

function save() {
  const rows = index.ntotal();
  if (rows === savedRows) return false;
  const dir = path.dirname(indexPath);
  const tmpIndex = indexPath + ".tmp";
  const tmpMeta = metaPath + ".tmp";
  fs.rmSync(tmpIndex, { force: true });
  index.write(tmpIndex);
  fsyncPath(tmpIndex, "r");
  const meta = { version: META_VERSION, dbUuid, dims, rows, kind, nlist, nprobe, bytes: fs.statSync(tmpIndex).size, sha256: sha256File(tmpIndex) };
  fs.writeFileSync(tmpMeta, JSON.stringify(meta));
  fsyncPath(tmpMeta, "r");
  // Index first, meta second: a crash in between leaves a new index with the old checksum -> rebuilt, never trusted.
  fs.renameSync(tmpIndex, indexPath);
  fs.renameSync(tmpMeta, metaPath);
  fsyncPath(dir, "r");
  savedRows = rows;
  return true;
}

/** Loads the saved index when it is whole, current and of the right kind; returns why not otherwise. */
function tryLoad() {
  if (!fs.existsSync(indexPath) || !fs.existsSync(metaPath)) return "no saved index";
  let meta;
  try { meta = JSON.parse(fs.readFileSync(metaPath, "utf8")); } catch { return "index metadata unreadable"; }
  if (!meta || meta.version !== META_VERSION || meta.dbUuid !== dbUuid || meta.dims !== dims || !Number.isInteger(meta.rows) || typeof meta.sha256 !== "string") return "index metadata does not match this database";
  if (fs.statSync(indexPath).size !== meta.bytes || sha256File(indexPath) !== meta.sha256) return "index file is torn or foreign (checksum mismatch)";
  const rows = maxId();
  if (meta.rows > rows) return "index holds more rows than the database";
  if (meta.kind === "flat" && wantsApprox(rows)) return "index outgrew flat search";
  if (meta.kind === "ivf" && !blas) return "approximate index needs BLAS, which is not loadable";
  const loaded = faiss.Index.read(indexPath);
  if (loaded.ntotal() !== meta.rows || loaded.getDimension() !== dims) return "index row count or dimension mismatch";
  index = loaded;
  kind = meta.kind;
  nlist = meta.nlist;
  nprobe = meta.nprobe;
  savedRows = meta.rows;
  return null;
}

function stats() { return { rows: index ? index.ntotal() : 0, kind, nlist, nprobe, blas, savedRows }; }

const handlers = {
  open() {
    const reason = tryLoad();
    if (reason !== null) build();
    const added = catchUp();
    if (reason !== null) save();
    return { ...stats(), rebuilt: reason, caughtUp: added };
  },
  reload() {
    const previous = index;
    const reason = tryLoad();
    if (reason !== null) { index = previous; return { ...stats(), reloaded: false, reason }; }
    return { ...stats(), reloaded: true, caughtUp: catchUp() };
  },
  add({ firstLabel, vectors }) {
    if (firstLabel !== index.ntotal() || vectors.length % dims !== 0) return { ...stats(), caughtUp: catchUp() };
    for (let i = 0; i < vectors.length; i++) if (!Number.isFinite(vectors[i])) throw new Error("VECTOR_INVALID: non-finite value");
    index.add(Array.from(vectors));
    return { ...stats(), upgrade: kind === "flat" && wantsApprox(index.ntotal()) };
  },
  catchUp() { return { ...stats(), caughtUp: catchUp() }; },
  search({ vector, k }) {
    if (!(vector instanceof Float32Array) || vector.length !== dims) throw new Error("VECTOR_INVALID: query has the wrong dimension");
    for (let i = 0; i < dims; i++) if (!Number.isFinite(vector[i])) throw new Error("VECTOR_INVALID: non-finite value");
    const rows = index.ntotal();
    const take = Math.min(k, rows);
    if (take < 1) return { labels: [], distances: [] };
    const result = index.search(Array.from(vector), take);
    const labels = [];
    const distances = [];
    for (let i = 0; i < result.labels.length; i++) {
      if (result.labels[i] < 0) continue;
      labels.push(result.labels[i]);
      distances.push(result.distances[i]);
    }
    return { labels, distances };
  },
  save() { return { ...stats(), saved: save() }; },
  stats() { return stats(); },
  close() { const saved = index ? save() : false; db.close(); index = null; return { saved }; },
};

if (role === "builder") {
  build();
  save();
  const result = stats();
  db.close();
  parentPort.postMessage({ id: 0, ok: true, value: result });
} else {
  parentPort.on("message", (message) => {
    let reply;
    try {
      reply = { id: message.id, ok: true, value: handlers[message.type](message) };
    } catch (error) {
      reply = { id: message.id, ok: false, error: String((error && error.message) || error) };
    }
    parentPort.postMessage(reply);
  });
}
`;
