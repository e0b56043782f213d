// Shared helpers for `npm run setup`. Node builtins only: setup runs before node_modules exists.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, relative } from "node:path";

export function log(message) {
  console.log(`[setup] ${message}`);
}

/** A setup failure that carries the exact command or action that fixes it. */
export class SetupError extends Error {
  constructor(message, { fix, cause } = {}) {
    super(message, { cause });
    this.name = "SetupError";
    this.fix = fix;
  }
}

/** Runs a command, inheriting stdio; throws with the command line on failure. */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: "inherit", ...options });
  if (result.error) throw new SetupError(`${command} could not start: ${result.error.message}`, { fix: options.fix });
  if (result.status !== 0) throw new SetupError(`\`${command} ${args.join(" ")}\` exited with ${result.status ?? result.signal}`, { fix: options.fix });
  return result;
}

/** Runs a command and captures its output; never throws. */
export function capture(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: "utf8", ...options });
  return {
    ok: !result.error && result.status === 0,
    status: result.status,
    stdout: result.stdout ?? "",
    stderr: result.stderr ?? "",
    output: `${result.stderr ?? ""}${result.stdout ?? ""}`.trim() || (result.error?.message ?? ""),
  };
}

/** True when `name` is an executable found on PATH. */
export function onPath(name) {
  return capture("sh", ["-c", `command -v ${name}`]).ok;
}

export function sha256(data) {
  return createHash("sha256").update(data).digest("hex");
}

export function sha256File(path) {
  return sha256(readFileSync(path));
}

/** Every regular file under `dir` (sorted, relative paths), skipping dot-folders. */
export function listFiles(dir) {
  const out = [];
  const walk = (current) => {
    for (const entry of readdirSync(current, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith(".") || entry.name === "build") continue;
      const full = join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() || entry.isSymbolicLink()) out.push(relative(dir, full));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** Content hash of a folder: relative paths and file contents. */
export function hashTree(dir) {
  const hash = createHash("sha256");
  for (const file of listFiles(dir)) {
    hash.update(file).update("\0").update(readFileSync(join(dir, file))).update("\0");
  }
  return hash.digest("hex");
}

/** Short stable key of a JSON-able value. */
export function cacheKey(inputs) {
  return sha256(JSON.stringify(inputs)).slice(0, 20);
}

/**
 * Root of the user build cache: `$COUNCIL_SETUP_CACHE`, else `${XDG_CACHE_HOME:-~/.cache}/council`.
 * Returns undefined when caching is off (`--no-cache` or COUNCIL_SETUP_CACHE=off).
 */
export function cacheRoot({ noCache = false } = {}) {
  const override = process.env.COUNCIL_SETUP_CACHE;
  if (noCache || override === "off" || override === "0") return undefined;
  if (override) return override;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "council");
}

/** Copies a file so readers never see it half-written (copy to a temp name, then rename). */
export function copyAtomic(from, to, mode) {
  mkdirSync(dirname(to), { recursive: true });
  const temp = `${to}.tmp-${process.pid}`;
  copyFileSync(from, temp);
  if (mode !== undefined) chmodSync(temp, mode);
  renameSync(temp, to);
}

/** Writes text atomically. */
export function writeAtomic(path, text) {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}

/** Stores files in `cache/<entry>` (written to a temp folder, then renamed: a cache entry is complete or absent). */
export function storeInCache(entryDir, files) {
  if (entryDir === undefined) return false;
  try {
    if (existsSync(entryDir)) return true;
    const temp = `${entryDir}.tmp-${process.pid}`;
    rmSync(temp, { recursive: true, force: true });
    mkdirSync(temp, { recursive: true });
    for (const [name, source] of Object.entries(files)) copyFileSync(source, join(temp, name));
    renameSync(temp, entryDir);
    return true;
  } catch (error) {
    log(`warning: could not write the cache entry ${entryDir}: ${error.message}`);
    return false;
  }
}

/** The cached files of an entry when it holds every name, else undefined. */
export function readCache(entryDir, names) {
  if (entryDir === undefined || !existsSync(entryDir)) return undefined;
  const files = Object.fromEntries(names.map((name) => [name, join(entryDir, name)]));
  return Object.values(files).every((path) => existsSync(path) && statSync(path).size > 0) ? files : undefined;
}

export function readJsonFile(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined; // missing or unreadable: the caller treats it as "not set up yet"
  }
}

export function formatSeconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}
