// Makes faiss-node usable offline: its own installer downloads a prebuilt binary from GitHub and then
// git-clones FAISS, both of which fail without internet. We try the prebuilt binary first (online users),
// then compile faiss-node's own src/faiss.cc against Debian's libfaiss-dev (1.7.3). The compiled binary
// is cached per (faiss-node version, faiss.cc, libfaiss version, compiler, Node ABI).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { cacheKey, capture, copyAtomic, log, readCache, readJsonFile, run, SetupError, sha256File, storeInCache } from "./util.mjs";

// faiss 1.7.3 declares idx_t inside Index; faiss-node expects the later namespace-level alias.
const SHIM = "#pragma once\n#include <faiss/Index.h>\nnamespace faiss { using idx_t = Index::idx_t; }\n";

export function faissPackageDir(root) {
  return join(root, "node_modules", "faiss-node");
}

/** Loads faiss-node in a child process and runs an add + search. */
export function verifyFaiss(root) {
  const probe = `const { IndexFlatL2 } = require("faiss-node"); const i = new IndexFlatL2(2); i.add([0,0, 1,1]); const r = i.search([0.9,0.9], 1); if (r.labels[0] !== 1) throw new Error("wrong search result " + JSON.stringify(r)); const q = []; for (let n = 0; n < 32; n++) q.push(0.9, 0.9); const m = i.search(q, 1); if (m.labels.length !== 32 || m.labels.some((l) => l !== 1)) throw new Error("wrong batched search (BLAS) result"); console.log("ok");`;
  const result = spawnSync(process.execPath, ["-e", probe], { cwd: root, encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "1" } });
  return { ok: result.status === 0 && result.stdout.trim() === "ok", output: (result.stderr || result.stdout || "").trim() };
}

/** Debian's libfaiss is a static archive: BLAS and LAPACK (batched search, IVF training) must be linked in. */
const LINK_FLAGS = ["-lfaiss", "-llapack", "-lblas", "-fopenmp"];

function faissCacheKey(pkg) {
  const libfaiss = capture("dpkg-query", ["-W", "-f=${Version}", "libfaiss-dev"]).stdout.trim() || "unknown";
  const compiler = capture("g++", ["--version"]).stdout.split("\n")[0] ?? "";
  return cacheKey({
    faissNode: readJsonFile(join(pkg, "package.json"))?.version,
    source: sha256File(join(pkg, "src", "faiss.cc")),
    shim: SHIM,
    link: LINK_FLAGS,
    libfaiss,
    compiler,
    napi: process.versions.napi,
    platform: process.platform,
    arch: process.arch,
  });
}

export function ensureFaiss({ root, cache }) {
  const pkg = faissPackageDir(root);
  if (!existsSync(join(pkg, "package.json"))) throw new SetupError("faiss-node is not installed", { fix: "npm ci" });
  const target = join(pkg, "build", "Release", "faiss-node.node");
  const entry = cache && existsSync(join(pkg, "src", "faiss.cc")) ? join(cache, "faiss-node", faissCacheKey(pkg)) : undefined;
  if (existsSync(target) && verifyFaiss(root).ok) {
    storeInCache(entry, { "faiss-node.node": target }); // seeds the cache on machines set up before it existed
    return { status: "working (add + search verified)" };
  }
  const cached = readCache(entry, ["faiss-node.node"]);
  if (cached) {
    copyAtomic(cached["faiss-node.node"], target);
    if (verifyFaiss(root).ok) return { status: "restored from cache (add + search verified)" };
    log("faiss-node: the cached binary does not work; rebuilding");
  }
  log("faiss-node: trying the prebuilt binary (needs GitHub)");
  const prebuildBin = resolveFrom(pkg, "prebuild-install/bin.js");
  if (prebuildBin) {
    const prebuilt = spawnSync(process.execPath, [prebuildBin, "--runtime", "napi"], { cwd: pkg, encoding: "utf8", timeout: 30_000 });
    if (prebuilt.status === 0 && verifyFaiss(root).ok) return { status: "prebuilt binary installed (add + search verified)" };
  }
  log("faiss-node: no prebuilt binary; compiling src/faiss.cc against the system libfaiss");
  if (!existsSync("/usr/include/faiss/Index.h")) {
    throw new SetupError("libfaiss-dev is missing", { fix: "as root: apt-get install -y libfaiss-dev (npm run setup does this when run as root)" });
  }
  mkdirSync(dirname(target), { recursive: true });
  const shim = join(pkg, "build", "council-faiss-shim.h");
  writeFileSync(shim, SHIM);
  const addonApiPackage = resolveFrom(pkg, "node-addon-api/package.json");
  const addonApi = addonApiPackage && dirname(addonApiPackage);
  if (!addonApi || !existsSync(join(addonApi, "napi.h"))) throw new SetupError("node-addon-api is not installed (a faiss-node dependency)", { fix: "npm ci" });
  const nodeInclude = findNodeInclude();
  run("nice", [
    "-n", "10", "g++",
    "-shared", "-fPIC", "-O2", "-std=c++17", "-fopenmp", "-frtti", "-fexceptions",
    "-DNAPI_VERSION=8", "-DNAPI_CPP_EXCEPTIONS", "-DNODE_ADDON_API_DISABLE_DEPRECATED",
    "-include", shim,
    `-I${nodeInclude}`, `-I${addonApi}`,
    join(pkg, "src", "faiss.cc"),
    "-o", target,
    ...LINK_FLAGS,
  ], { fix: "apt-get install -y g++ libfaiss-dev, then npm run setup" });
  const check = verifyFaiss(root);
  if (!check.ok) throw new SetupError(`faiss-node compiled but does not work: ${check.output}`, { fix: "apt-get install --reinstall -y libfaiss-dev, then rm -rf node_modules/faiss-node/build && npm run setup" });
  storeInCache(entry, { "faiss-node.node": target });
  return { status: "compiled against libfaiss (add + search verified)" };
}

function resolveFrom(pkg, request) {
  try {
    return createRequire(join(pkg, "package.json")).resolve(request);
  } catch {
    return undefined; // not installed: the caller reports it
  }
}

function findNodeInclude() {
  const candidates = [
    join(dirname(dirname(process.execPath)), "include", "node"),
    "/usr/include/node",
    "/usr/local/include/node",
  ];
  for (const dir of candidates) if (existsSync(join(dir, "node_api.h"))) return dir;
  const fromConfig = execFileSync(process.execPath, ["-p", "process.config.variables.node_prefix || ''"], { encoding: "utf8" }).trim();
  if (fromConfig && existsSync(join(fromConfig, "include", "node", "node_api.h"))) return join(fromConfig, "include", "node");
  throw new SetupError("Node's headers (node_api.h) were not found", { fix: "install Node 20 with its headers (the nodesource nodejs package ships them in /usr/include/node)" });
}
