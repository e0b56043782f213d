// better-sqlite3's install script (prebuild-install, else node-gyp) did not run (.npmrc ignore-scripts).
// Rebuild it when its binary is missing or does not load; cache the built binary per Node ABI.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { cacheKey, capture, copyAtomic, log, readCache, readJsonFile, run, SetupError, storeInCache } from "./util.mjs";

const PROBE = `const Database = require("better-sqlite3"); const db = new Database(":memory:"); db.exec("create table t (x integer)"); db.prepare("insert into t values (?)").run(41); const row = db.prepare("select x + 1 as y from t").get(); if (row.y !== 42) throw new Error("wrong result " + JSON.stringify(row)); db.close(); console.log("ok");`;

/** Opens an in-memory database in a child process (a broken binary cannot take setup down). */
export function verifyBetterSqlite(root) {
  const result = capture(process.execPath, ["-e", PROBE], { cwd: root });
  return { ok: result.ok && result.stdout.trim() === "ok", output: result.output };
}

export function ensureBetterSqlite({ root, cache }) {
  const pkgDir = join(root, "node_modules", "better-sqlite3");
  const version = readJsonFile(join(pkgDir, "package.json"))?.version;
  if (!version) throw new SetupError("better-sqlite3 is not installed", { fix: "npm ci" });
  const binary = join(pkgDir, "build", "Release", "better_sqlite3.node");
  const key = cacheKey({ version, abi: process.versions.modules, node: process.version, platform: process.platform, arch: process.arch });
  const entry = cache && join(cache, "better-sqlite3", key);
  if (existsSync(binary) && verifyBetterSqlite(root).ok) {
    storeInCache(entry, { "better_sqlite3.node": binary }); // seeds the cache on machines set up before it existed
    return { status: "working (in-memory database verified)" };
  }
  const cached = readCache(entry, ["better_sqlite3.node"]);
  if (cached) {
    copyAtomic(cached["better_sqlite3.node"], binary);
    if (verifyBetterSqlite(root).ok) return { status: "restored from cache (in-memory database verified)" };
    log("better-sqlite3: the cached binary does not load; rebuilding");
  }
  log("better-sqlite3: building the native module (prebuilt download first, else node-gyp; about a minute)");
  const env = { ...process.env };
  // Point node-gyp at the installed Node headers so it does not try to download them.
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, "include", "node", "common.gypi"))) env.npm_config_nodedir = prefix;
  run("nice", ["-n", "10", "npm", "rebuild", "better-sqlite3", "--ignore-scripts=false"], {
    cwd: root,
    env,
    fix: "apt-get install -y g++ make python3 (node-gyp needs them), then npm run setup",
  });
  const check = verifyBetterSqlite(root);
  if (!check.ok) throw new SetupError(`better-sqlite3 was rebuilt but does not work: ${check.output}`, { fix: "rm -rf node_modules && npm run setup" });
  storeInCache(entry, { "better_sqlite3.node": binary });
  return { status: "built (in-memory database verified)" };
}
