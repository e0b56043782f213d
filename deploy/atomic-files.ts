import { randomBytes } from "node:crypto";
import { open, rename, rm, symlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

const tempName = (path: string) => join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);

/** fsyncs a directory so a rename inside it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Points `linkPath` at `target` atomically: a reader sees either the old or the new target, never nothing.
 * Creates a temporary link beside it and `rename`s it over the old one (never unlink-then-create, as
 * `ln -sfn` does).
 */
export async function switchSymlink({ linkPath, target }: { linkPath: string; target: string }): Promise<void> {
  const temp = tempName(linkPath);
  await symlink(target, temp);
  try {
    await rename(temp, linkPath);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await fsyncDir(dirname(linkPath));
}

/** Writes a file atomically (temp file, fsync, rename). */
export async function writeFileAtomic({ path, data }: { path: string; data: string | Uint8Array }): Promise<void> {
  const temp = tempName(path);
  const handle = await open(temp, "wx", 0o644);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await fsyncDir(dirname(path));
}
