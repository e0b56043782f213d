import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { z } from "zod";
import { CouncilError, isCouncilError } from "../../core/index.js";
import { readGguf, sha256File } from "../gguf/index.js";
import { buildSeedling, seedlingKey, seedlingReportPath, type BuildSeedlingOptions, type SeedlingReport } from "./build-seedling.js";

export interface EnsureSeedlingOptions extends BuildSeedlingOptions {
  /** Cache folder (`seedling-<key>.gguf` + `.json`); undefined = no cache. */
  cacheDir?: string;
  /** Keep any valid existing `out`, even one built from another recipe or corpus. */
  ifMissing?: boolean;
  /** Rebuild even when `out` or the cache is up to date. */
  force?: boolean;
}

export interface EnsureSeedlingResult {
  path: string;
  source: "existing" | "cache" | "built";
  key: string;
  report: SeedlingReport | undefined;
}

/** Key prefix of seedlings built by the reading pre-training recipe (`council seedling build --full`). */
export const READING_KEY_PREFIX = "reading-";

const reportSchema = z.object({ key: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).passthrough();

async function readReport(path: string): Promise<(z.infer<typeof reportSchema> & SeedlingReport) | undefined> {
  if (!existsSync(path)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, "utf8"));
  } catch {
    // A half-written or edited report: treat as absent (the model is then checked or rebuilt).
    return undefined;
  }
  const parsed = reportSchema.safeParse(value);
  return parsed.success ? (parsed.data as z.infer<typeof reportSchema> & SeedlingReport) : undefined;
}

/** Checks a seedling GGUF: parseable, and matching the sha256 of its JSON report when it has one. Returns its key. */
export async function verifySeedlingFile(path: string): Promise<{ key: string | undefined; report: SeedlingReport | undefined }> {
  const file = readGguf(path);
  const key = file.metadata.get("council.seedling.key");
  const report = await readReport(seedlingReportPath(path));
  if (report !== undefined && (await sha256File(path)) !== report.sha256) {
    throw new CouncilError("MODEL_INVALID", `${path} does not match the sha256 in its report (corrupt or modified); rebuild with npx council seedling build --force`, { details: { path } });
  }
  return { key: typeof key === "string" ? key : undefined, report };
}

async function copyAtomic(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  const temp = `${to}.${process.pid}.tmp`;
  try {
    await copyFile(from, temp);
    await rename(temp, to);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Makes `out` hold the seedling for the current recipe and corpus: keeps an up-to-date (or, with `ifMissing`,
 * any valid) existing file, else copies a verified cached build, else builds and stores the result in the cache.
 * A corrupt existing `out` is refused (MODEL_INVALID) unless `force`; a corrupt cache entry is discarded and rebuilt.
 */
export async function ensureSeedling(options: EnsureSeedlingOptions): Promise<EnsureSeedlingResult> {
  const { out, cacheDir, ifMissing = false, force = false, onProgress = () => undefined } = options;
  const { key } = await seedlingKey(options);
  if (!force && existsSync(out)) {
    let existing: Awaited<ReturnType<typeof verifySeedlingFile>>;
    try {
      existing = await verifySeedlingFile(out);
    } catch (error) {
      if (isCouncilError(error, "GGUF_INVALID")) throw new CouncilError("MODEL_INVALID", `${out} exists but is not a valid GGUF (${error.message}); rebuild it with npx council seedling build --force`, { cause: error });
      throw error;
    }
    // The committed reading seedling (`council seedling build --full`) is never replaced by the quick recipe unless forced.
    if (ifMissing || existing.key === key || existing.key?.startsWith(READING_KEY_PREFIX)) return { path: out, source: "existing", key: existing.key ?? key, report: existing.report };
    onProgress(`${out} was built from another recipe or corpus (${existing.key ?? "unknown"} ≠ ${key}); updating`);
  }
  const cached = cacheDir === undefined ? undefined : join(cacheDir, `seedling-${key}.gguf`);
  if (!force && cached !== undefined && existsSync(cached)) {
    try {
      const { key: cachedKey } = await verifySeedlingFile(cached);
      if (cachedKey !== key) throw new CouncilError("MODEL_INVALID", `cached seedling ${cached} has key ${cachedKey}`);
      await copyAtomic(seedlingReportPath(cached), seedlingReportPath(out));
      await copyAtomic(cached, out);
      const { report } = await verifySeedlingFile(out);
      onProgress(`copied cached seedling ${cached}`);
      return { path: out, source: "cache", key, report };
    } catch (error) {
      if (!isCouncilError(error)) throw error;
      onProgress(`discarding corrupt cache entry ${cached}: ${error.message}`);
      await rm(cached, { force: true });
      await rm(seedlingReportPath(cached), { force: true });
    }
  }
  const report = await buildSeedling(options);
  if (cached !== undefined) {
    await copyAtomic(out, cached);
    await copyAtomic(seedlingReportPath(out), seedlingReportPath(cached));
    onProgress(`cached as ${cached}`);
  }
  return { path: out, source: "built", key: report.key, report };
}
