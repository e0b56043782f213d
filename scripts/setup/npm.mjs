// `npm ci` only when node_modules is missing or does not match package-lock.json.
// The repo's .npmrc sets ignore-scripts=true: setup runs the native steps itself (faiss-node,
// better-sqlite3), because their install scripts download from GitHub.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { log, readJsonFile, run, SetupError, sha256File, writeAtomic } from "./util.mjs";

const STAMP = join("node_modules", ".council-setup-lock.sha256");

/** Lock entries whose installed version differs (optional packages for other platforms are skipped). */
export function staleLockEntries(root) {
  const lock = readJsonFile(join(root, "package-lock.json"));
  if (!lock?.packages) throw new SetupError("package-lock.json is missing or unreadable", { fix: "restore package-lock.json from git (git checkout package-lock.json)" });
  const stale = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path.startsWith("node_modules/") || entry.link) continue;
    let version;
    try {
      version = JSON.parse(readFileSync(join(root, path, "package.json"), "utf8")).version;
    } catch {
      version = undefined; // not installed
    }
    if (version !== entry.version && !entry.optional) stale.push(`${path.slice("node_modules/".length)}@${entry.version}`);
  }
  return stale;
}

export function ensureNodeModules({ root }) {
  const lockHash = sha256File(join(root, "package-lock.json"));
  const stampPath = join(root, STAMP);
  if (existsSync(stampPath) && readFileSync(stampPath, "utf8").trim() === lockHash) return { status: "up to date (lockfile stamp)", installed: false };
  const stale = existsSync(join(root, "node_modules")) ? staleLockEntries(root) : ["node_modules"];
  if (stale.length === 0) {
    writeAtomic(stampPath, `${lockHash}\n`);
    return { status: "up to date (matches package-lock.json)", installed: false };
  }
  log(`npm: node_modules is missing or stale (${stale.slice(0, 3).join(", ")}${stale.length > 3 ? `, +${stale.length - 3} more` : ""}); running npm ci`);
  const fix = "check that the npm registry is reachable (npm ping), then rerun npm run setup";
  const ci = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  let how = "npm ci";
  if (ci.status !== 0) {
    // npm ci refuses a lock that lacks node-llama-cpp's optional packages for other platforms (mac/win/riscv),
    // which registries without them cannot add. npm install honours the same lock and skips those.
    log("npm: npm ci refused; installing from the same package-lock.json with npm install");
    run("npm", ["install", "--no-audit", "--no-fund"], { cwd: root, fix });
    how = "npm install (npm ci refused the lock)";
  }
  if (sha256File(join(root, "package-lock.json")) !== lockHash) log("npm: warning: npm rewrote package-lock.json; review `git diff package-lock.json`");
  const still = staleLockEntries(root);
  if (still.length > 0) throw new SetupError(`node_modules still differs from package-lock.json: ${still.slice(0, 5).join(", ")}`, { fix: "rm -rf node_modules && npm run setup" });
  writeAtomic(stampPath, `${sha256File(join(root, "package-lock.json"))}\n`);
  return { status: `installed with ${how}`, installed: true };
}
