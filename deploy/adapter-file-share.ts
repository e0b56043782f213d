import { createHash, randomBytes } from "node:crypto";
import { chmod, lstat, mkdir, open, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CouncilError, DEFAULT_SHARED_ADAPTER_MAX_BYTES, silentLogger, type Logger } from "../core/index.js";
import { AdapterIntegrity } from "./adapter-integrity.js";
import { fsyncDir } from "./atomic-files.js";
import { assertVersionName } from "./version-name.js";

/** One file of a version's folder (`adapter.gguf`, `training.json`, `eval.json`) as stored outside the data dir. */
export interface AdapterFileBlob {
  name: string;
  bytes: Buffer;
  sha256: string;
}

/** Where version folders are kept for every replica (Postgres table `council_adapter_files`, or a fake in tests). */
export interface AdapterBlobStore {
  has(version: string): Promise<boolean>;
  /** Stores all files of a version at once (all or none); a version already stored is left as it is. */
  put(version: string, files: readonly AdapterFileBlob[]): Promise<void>;
  /** The version's files, or null when it was never stored. */
  get(version: string): Promise<AdapterFileBlob[] | null>;
}

/**
 * Makes a version's folder reach every replica: `upload` on the replica that has it (at activation, canary start),
 * `materialise` on a replica the release record tells to serve a version it lacks. The file release store has no
 * such port (one data dir; nothing to copy).
 */
export interface AdapterFileShare {
  upload(version: string): Promise<void>;
  /** @returns `present` when `versions/<version>/` was already here, `materialised` when it was fetched now. */
  materialise(version: string): Promise<"present" | "materialised">;
}

const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const ADAPTER_FILE = "adapter.gguf";

export interface SharedAdapterFilesOptions {
  /** The registry's `loras/` and `loras/versions/` folders (temp folders go in `loras`, the same file system). */
  paths: { loras: string; versions: string };
  blobs: AdapterBlobStore;
  /** Folders above this many bytes are refused with ADAPTER_TOO_LARGE. @default DEFAULT_SHARED_ADAPTER_MAX_BYTES (core; the setting is `memory.sharedAdapterMaxBytes`) */
  maxBytes?: number;
  logger?: Logger;
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/**
 * Version folders shared through an {@link AdapterBlobStore}. A materialised folder is written to a temp folder
 * under `loras/`, checked exactly as the registry checks a local version ({@link AdapterIntegrity}: real path
 * inside, sha256 starts with the version name) plus each file's stored sha256, and only then renamed into
 * `versions/`: a replica never sees a partial or tampered version.
 */
export class SharedAdapterFiles implements AdapterFileShare {
  private readonly paths: { loras: string; versions: string };
  private readonly blobs: AdapterBlobStore;
  private readonly maxBytes: number;
  private readonly logger: Logger;
  private readonly integrity: AdapterIntegrity;

  constructor({ paths, blobs, maxBytes = DEFAULT_SHARED_ADAPTER_MAX_BYTES, logger = silentLogger }: SharedAdapterFilesOptions) {
    this.paths = paths;
    this.blobs = blobs;
    this.maxBytes = maxBytes;
    this.logger = logger;
    this.integrity = new AdapterIntegrity({ versions: paths.versions });
  }

  async upload(version: string): Promise<void> {
    assertVersionName(version);
    if (await this.blobs.has(version)) return;
    await this.integrity.verify({ version, file: ADAPTER_FILE });
    const dir = join(this.paths.versions, version);
    const files: AdapterFileBlob[] = [];
    let total = 0;
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (!entry.isFile() || !FILE_NAME.test(entry.name)) throw new CouncilError("ADAPTER_INVALID", `${join(dir, entry.name)} is not a plain file of a version folder; republish the version.`, { details: { version } });
      const bytes = await readFile(join(dir, entry.name));
      total += bytes.length;
      this.refuseTooLarge(version, total);
      files.push({ name: entry.name, bytes, sha256: sha256(bytes) });
    }
    await this.blobs.put(version, files);
    this.logger.info({ version, bytes: total, files: files.length }, "adapter version shared");
  }

  async materialise(version: string): Promise<"present" | "materialised"> {
    assertVersionName(version);
    const target = join(this.paths.versions, version);
    if (await exists(target)) return "present";
    const files = await this.blobs.get(version);
    if (files === null) throw new CouncilError("ADAPTER_NOT_FOUND", `Adapter version ${version} is neither in ${this.paths.versions} nor shared in Postgres; activate it on the replica that published it.`, { details: { version } });
    this.check(version, files);
    const root = join(this.paths.loras, `.materialise-${process.pid}-${randomBytes(6).toString("hex")}`);
    const staged = join(root, version);
    await mkdir(staged, { recursive: true });
    try {
      for (const file of files) {
        const path = join(staged, file.name);
        await writeFile(path, file.bytes);
        const handle = await open(path, "r+");
        await handle.sync();
        await handle.close();
        await chmod(path, 0o444);
      }
      await fsyncDir(staged);
      await new AdapterIntegrity({ versions: root }).verify({ version, file: ADAPTER_FILE });
      try {
        await rename(staged, target);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOTEMPTY" || code === "EEXIST") return "present";
        throw error;
      }
      await fsyncDir(this.paths.versions);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
    this.logger.info({ version, files: files.length }, "adapter version materialised from Postgres");
    return "materialised";
  }

  /** Names, sizes and per-file hashes of stored files, before anything touches the disk. */
  private check(version: string, files: readonly AdapterFileBlob[]): void {
    const invalid = (why: string) => new CouncilError("ADAPTER_INVALID", `Shared adapter version ${version} is refused: ${why}; activate it again from a replica that holds it intact.`, { details: { version } });
    if (!files.some((file) => file.name === ADAPTER_FILE)) throw invalid(`it has no ${ADAPTER_FILE}`);
    this.refuseTooLarge(version, files.reduce((sum, file) => sum + file.bytes.length, 0));
    for (const file of files) {
      if (!FILE_NAME.test(file.name)) throw invalid(`file name ${JSON.stringify(file.name)} is not a plain name`);
      if (sha256(file.bytes) !== file.sha256) throw invalid(`${file.name} does not match its stored sha256`);
    }
  }

  private refuseTooLarge(version: string, bytes: number): void {
    if (bytes > this.maxBytes) {
      throw new CouncilError("ADAPTER_TOO_LARGE", `Adapter version ${version} is over ${bytes} bytes, above the ${this.maxBytes}-byte cap for sharing it through Postgres; copy loras/versions/${version}/ to every replica instead.`, { details: { version, bytes, maxBytes: this.maxBytes } });
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}
