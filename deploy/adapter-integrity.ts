import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { CouncilError } from "../core/index.js";

/** The identity of a file's bytes as the file system reports it: a hash is reused while none of these change. */
interface FileStamp {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

const sameStamp = (a: FileStamp, b: FileStamp) => a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;

/**
 * Checks that a version's adapter file is the one its name promises before it is loaded or switched to:
 * the real path (all links resolved) must be `versions/<version>/adapter.gguf` inside the real
 * `versions/` folder, and the file's sha256 must start with the version name (versions are content-hash
 * prefixes). Hashes are cached by inode, size, mtime and ctime, so a reload of an unchanged file costs one stat.
 */
export class AdapterIntegrity {
  readonly #versions: string;
  readonly #cache = new Map<string, { stamp: FileStamp; sha256: string }>();

  constructor({ versions }: { versions: string }) {
    this.#versions = versions;
  }

  /** The verified real path of `versions/<version>/<file>`. Throws ADAPTER_INVALID (or ADAPTER_NOT_FOUND when missing). */
  async verify({ version, file }: { version: string; file: string }): Promise<string> {
    const path = join(this.#versions, version, file);
    let real: string;
    let realVersions: string;
    try {
      [real, realVersions] = await Promise.all([realpath(path), realpath(this.#versions)]);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      throw new CouncilError(code === "ENOENT" ? "ADAPTER_NOT_FOUND" : "ADAPTER_INVALID", `Adapter ${path} cannot be resolved: ${(cause as Error).message}`, { cause, details: { version, path } });
    }
    if (relative(realVersions, real) !== join(version, file)) {
      throw new CouncilError("ADAPTER_INVALID", `Adapter ${path} resolves to ${real}, outside ${join(realVersions, version)}; a version's files must live in its own folder (republish it).`, {
        details: { version, path, real },
      });
    }
    const info = await stat(real);
    if (!info.isFile()) throw new CouncilError("ADAPTER_INVALID", `Adapter ${path} is not a regular file.`, { details: { version, path } });
    const stamp: FileStamp = { dev: info.dev, ino: info.ino, size: info.size, mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs };
    const cached = this.#cache.get(real);
    const sha256 = cached && sameStamp(cached.stamp, stamp) ? cached.sha256 : await sha256File(real);
    this.#cache.set(real, { stamp, sha256 });
    if (!sha256.startsWith(version)) {
      this.#cache.delete(real);
      throw new CouncilError("ADAPTER_INVALID", `Adapter ${path} has sha256 ${sha256.slice(0, 16)}…, not the content hash its version name ${version} promises: it was changed after publishing (republish it, or roll back to another version).`, {
        details: { version, path, sha256 },
      });
    }
    return real;
  }
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolvePromise(hash.digest("hex")));
  });
}
