import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import Database from "better-sqlite3";
import { CouncilError, silentLogger, type Logger } from "../core/index.js";
import { HashEmbeddings } from "../models/index.js";
import { embeddingDimensions, embeddingFingerprint } from "./embedding-dimensions.js";
import { lexicalTerms } from "./lexical-index.js";
import { splitPassages, type SplitOptions } from "./markdown-passages.js";
import { hybridRanker, type PassageRanker } from "./passage-rankers.js";
import { namedTitles, titleWords } from "./title-match.js";
import { checkVector, parseQueryText } from "./turn-schema.js";
import type { KnowledgeBase, Passage, PassageHit } from "./types.js";

export interface MarkdownKnowledgeBaseOptions extends SplitOptions {
  /** SQLite file holding passages, their vectors and each file's content hash. */
  storePath: string;
  /** @default new HashEmbeddings({ dimensions }) */
  embeddings?: EmbeddingsInterface;
  /** The embeddings' vector length. @default `embeddings.dimensions`, else measured (384 for the default) */
  dimensions?: number;
  /** @default silentLogger */
  logger?: Logger;
  /**
   * Added to the score of every passage whose page title the query names as words in a row ("What cp command…",
   * "…using ssh-keygen?"; see {@link namedTitles}); 0 = plain cosine. @default DEFAULT_TITLE_BOOST
   */
  titleBoost?: number;
  /** Adds a score beyond cosine (see passage-rankers.ts; `hybridRanker()` adds BM25). @default hybridRanker() (the `kb.ranker` default) */
  ranker?: PassageRanker;
}

/** Measured on the reading seedling's tldr bench (bench/seedling-reading.ts): 0.3 puts the named page first. */
export const DEFAULT_TITLE_BOOST = 0.3;

export interface KbIndexReport {
  root: string;
  files: number;
  added: number;
  changed: number;
  removed: number;
  unchanged: number;
  /** Files over 4 MiB, not indexed. */
  skipped: number;
  /** Passages now held for this root. */
  passages: number;
  /** Passages held for all roots. */
  total: number;
  seconds: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (root TEXT NOT NULL, source TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (root, source));
CREATE TABLE IF NOT EXISTS passages (
  id TEXT PRIMARY KEY, root TEXT NOT NULL, source TEXT NOT NULL, ord INTEGER NOT NULL,
  title TEXT NOT NULL, text TEXT NOT NULL, vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_file ON passages (root, source);
`;
const SCAN_CHUNK = 4096;
const MAX_FILE_BYTES = 4 << 20;

/**
 * Knowledge base over folders of markdown. Each file is split into passages (tldr pages: one per
 * description + command; other markdown: by heading and paragraph), embedded, and kept in SQLite with
 * the file's sha256, so re-indexing only re-embeds files whose content changed. Search is exact
 * cosine over all passages (plus the ranker's score: BM25 for the hybrid ranker), scanned in chunks so the event loop is never held for long.
 */
export class MarkdownKnowledgeBase implements KnowledgeBase {
  readonly #db: Database.Database;
  readonly #embeddings: EmbeddingsInterface;
  readonly #dimensions: number;
  readonly #logger: Logger;
  readonly #split: SplitOptions;
  readonly #titleBoost: number;
  readonly #ranker: PassageRanker;
  #rank: (query: string) => Float32Array | undefined = () => undefined;
  #passages: Passage[] = [];
  #matrix = new Float32Array(0);
  /** Distinct titles as words, and each passage's index into them. */
  #titles: string[][] = [];
  #titleOf = new Int32Array(0);
  /** Lexical term → how many passages (title + text) contain it. */
  #documentFrequency = new Map<string, number>();
  #disposed = false;

  private constructor(db: Database.Database, options: Required<Pick<MarkdownKnowledgeBaseOptions, "embeddings" | "dimensions" | "logger" | "titleBoost" | "ranker">> & SplitOptions) {
    this.#db = db;
    this.#ranker = options.ranker;
    this.#titleBoost = options.titleBoost;
    this.#embeddings = options.embeddings;
    this.#dimensions = options.dimensions;
    this.#logger = options.logger;
    this.#split = { maxChars: options.maxChars, minChars: options.minChars };
  }

  static async create({ storePath, dimensions: wanted, embeddings = new HashEmbeddings({ dimensions: wanted ?? 384 }), logger = silentLogger, titleBoost = DEFAULT_TITLE_BOOST, ranker = hybridRanker(), ...split }: MarkdownKnowledgeBaseOptions): Promise<MarkdownKnowledgeBase> {
    if (!Number.isFinite(titleBoost) || titleBoost < 0) throw new CouncilError("CONFIG_INVALID", `titleBoost must be a number >= 0, got ${titleBoost}`);
    const dimensions = wanted ?? (await embeddingDimensions(embeddings));
    let db: Database.Database | undefined;
    try {
      mkdirSync(dirname(storePath), { recursive: true });
      db = new Database(storePath);
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      db.exec(SCHEMA);
    } catch (cause) {
      db?.close();
      throw new CouncilError("MEMORY_CORRUPT", `Knowledge base ${storePath} cannot be opened: ${(cause as Error).message}`, { cause });
    }
    const fingerprint = embeddingFingerprint(embeddings, dimensions);
    const stored = (db.prepare("SELECT value FROM meta WHERE key = 'embeddings'").get() as { value: string } | undefined)?.value;
    if (stored !== fingerprint) {
      // Vectors from other embeddings are useless: forget them; the next index() re-embeds every file.
      db.transaction(() => {
        db.exec("DELETE FROM passages; DELETE FROM files;");
        db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('embeddings', ?)").run(fingerprint);
      })();
      if (stored !== undefined) logger.warn({ stored, fingerprint }, "knowledge base: embeddings changed, passages dropped; re-index the folders");
    }
    const kb = new MarkdownKnowledgeBase(db, { embeddings, dimensions, logger, titleBoost, ranker, ...split });
    kb.#load();
    return kb;
  }

  /** Indexes (or re-indexes) every `*.md` under `dir`; unchanged files are skipped by content hash. */
  async index(dir: string): Promise<KbIndexReport> {
    this.#alive();
    const started = performance.now();
    let root: string;
    try {
      root = realpathSync(dir);
      if (!lstatSync(root).isDirectory()) throw new Error("not a directory");
    } catch (cause) {
      throw new CouncilError("NOT_FOUND", `Knowledge-base folder ${dir} does not exist or is not a folder`, { cause });
    }
    const known = new Map((this.#db.prepare("SELECT source, hash FROM files WHERE root = ?").all(root) as Array<{ source: string; hash: string }>).map((row) => [row.source, row.hash]));
    const { files, skipped } = listMarkdown(root);
    const report = { root, files: files.length, added: 0, changed: 0, removed: 0, unchanged: 0, skipped: skipped.length, passages: 0, total: 0, seconds: 0 };
    if (skipped.length > 0) this.#logger.warn({ skipped }, "knowledge base: files over 4 MiB skipped");
    const work: Array<{ source: string; hash: string; passages: Array<{ id: string; ord: number; title: string; text: string }> }> = [];
    for (const file of files) {
      const source = relative(root, file).split(sep).join("/");
      const content = readFileSync(file);
      const hash = createHash("sha256").update(content).digest("hex");
      const previous = known.get(source);
      known.delete(source);
      if (previous === hash) {
        report.unchanged++;
        continue;
      }
      if (previous === undefined) report.added++;
      else report.changed++;
      const prefix = createHash("sha1").update(root).digest("hex").slice(0, 8);
      const passages = splitPassages(content.toString("utf8"), this.#split).map((p) => ({ ...p, id: `${prefix}:${source}#${p.ord}` }));
      work.push({ source, hash, passages });
    }
    report.removed = known.size;

    const flat = work.flatMap((file) => file.passages);
    const vectors: Float32Array[] = [];
    for (let i = 0; i < flat.length; i += 512) {
      const batch = flat.slice(i, i + 512);
      const embedded = await this.#embeddings.embedDocuments(batch.map((p) => `${p.title}\n${p.text}`));
      embedded.forEach((vector) => vectors.push(checkVector(vector, this.#dimensions)));
    }
    const deleteFile = this.#db.prepare("DELETE FROM passages WHERE root = ? AND source = ?");
    const deleteHash = this.#db.prepare("DELETE FROM files WHERE root = ? AND source = ?");
    const insert = this.#db.prepare("INSERT INTO passages (id, root, source, ord, title, text, vector) VALUES (?, ?, ?, ?, ?, ?, ?)");
    const upsertHash = this.#db.prepare("INSERT OR REPLACE INTO files (root, source, hash) VALUES (?, ?, ?)");
    this.#db.transaction(() => {
      for (const source of known.keys()) {
        deleteFile.run(root, source);
        deleteHash.run(root, source);
      }
      let v = 0;
      for (const file of work) {
        deleteFile.run(root, file.source);
        for (const p of file.passages) {
          const vector = vectors[v++]!;
          insert.run(p.id, root, file.source, p.ord, p.title, p.text, Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength));
        }
        upsertHash.run(root, file.source, file.hash);
      }
    })();
    this.#load();
    report.passages = (this.#db.prepare("SELECT COUNT(*) AS n FROM passages WHERE root = ?").get(root) as { n: number }).n;
    report.total = this.#passages.length;
    report.seconds = (performance.now() - started) / 1000;
    this.#logger.info(report, "knowledge base indexed");
    return report;
  }

  /** The folders indexed so far. */
  roots(): string[] {
    return (this.#db.prepare("SELECT DISTINCT root FROM files ORDER BY root").all() as Array<{ root: string }>).map((row) => row.root);
  }

  async search(query: string, options: { k?: number } = {}): Promise<PassageHit[]> {
    this.#alive();
    const text = parseQueryText(query);
    const k = options.k ?? 5;
    if (!Number.isInteger(k) || k < 1 || k > 1000) throw new CouncilError("MEMORY_QUERY_INVALID", `k must be an integer in [1, 1000], got ${k}`);
    const vector = checkVector(await this.#embeddings.embedQuery(text), this.#dimensions);
    const passages = this.#passages;
    const matrix = this.#matrix;
    const dims = this.#dimensions;
    const named = this.#titleBoost > 0 ? namedTitles(text, this.#titles) : new Set<number>();
    const titleOf = this.#titleOf;
    const extra = this.#rank(text);
    const best: Array<{ i: number; score: number }> = [];
    let floor = -Infinity;
    for (let start = 0; start < passages.length; start += SCAN_CHUNK) {
      const end = Math.min(passages.length, start + SCAN_CHUNK);
      for (let i = start; i < end; i++) {
        let score = 0;
        const offset = i * dims;
        for (let d = 0; d < dims; d++) score += vector[d]! * matrix[offset + d]!;
        if (named.size > 0 && named.has(titleOf[i]!)) score += this.#titleBoost;
        if (extra !== undefined) score += extra[i]!;
        if (best.length < k || score > floor) {
          best.push({ i, score });
          if (best.length > k * 4) {
            best.sort((a, b) => b.score - a.score || a.i - b.i).splice(k);
            floor = best[k - 1]!.score;
          }
        }
      }
      if (end < passages.length) await new Promise((resolve) => setImmediate(resolve));
    }
    best.sort((a, b) => b.score - a.score || a.i - b.i).splice(k);
    return best.map(({ i, score }) => ({ passage: { ...passages[i]! }, score }));
  }

  size(): number {
    return this.#passages.length;
  }

  documentFrequency(word: string): number | undefined {
    this.#alive();
    const [term] = lexicalTerms(word);
    return term === undefined ? undefined : (this.#documentFrequency.get(term) ?? 0);
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#db.close();
  }

  #load(): void {
    const rows = this.#db.prepare("SELECT id, source, title, text, vector FROM passages ORDER BY root, source, ord").all() as Array<Passage & { vector: Buffer }>;
    const matrix = new Float32Array(rows.length * this.#dimensions);
    const bytes = new Uint8Array(matrix.buffer);
    rows.forEach((row, i) => {
      if (row.vector.byteLength !== this.#dimensions * 4) throw new CouncilError("MEMORY_CORRUPT", `Passage ${row.id} has a vector of the wrong size`);
      bytes.set(row.vector, i * this.#dimensions * 4);
    });
    this.#passages = rows.map(({ id, source, title, text }) => ({ id, source, title, text }));
    this.#matrix = matrix;
    const titleIndex = new Map<string, number>();
    this.#titleOf = Int32Array.from(rows, ({ title }) => {
      if (!titleIndex.has(title)) titleIndex.set(title, titleIndex.size);
      return titleIndex.get(title)!;
    });
    this.#titles = [...titleIndex.keys()].map(titleWords);
    this.#rank = this.#ranker.prepare(this.#passages);
    const frequency = new Map<string, number>();
    for (const { title, text } of this.#passages) for (const term of new Set(lexicalTerms(`${title} ${text}`))) frequency.set(term, (frequency.get(term) ?? 0) + 1);
    this.#documentFrequency = frequency;
  }

  #alive(): void {
    if (this.#disposed) throw new CouncilError("BACKEND_UNAVAILABLE", "This knowledge base has been disposed");
  }
}

/** Every regular `*.md` file under `root` (symlinks are not followed: they could leave the folder). */
function listMarkdown(root: string): { files: string[]; skipped: string[] } {
  const out: string[] = [];
  const skipped: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name.startsWith(".")) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.toLowerCase().endsWith(".md")) (lstatSync(path).size <= MAX_FILE_BYTES ? out : skipped).push(path);
    }
  };
  walk(root);
  return { files: out, skipped };
}
