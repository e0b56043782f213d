// Makes faiss-node usable offline: its own installer downloads a prebuilt binary from GitHub and then
// git-clones FAISS, both of which fail without internet. We try the prebuilt binary first (online users),
// then compile faiss-node's own src/faiss.cc against Debian's libfaiss-dev (1.7.3).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { log, run } from "./util.mjs";

const require = createRequire(import.meta.url);

export function faissPackageDir(root) {
  return dirname(require.resolve("faiss-node/package.json", { paths: [root] }));
}

/** Loads faiss-node in a child process and runs an add + search. */
export function verifyFaiss(root) {
  const probe = `const { IndexFlatL2 } = require("faiss-node"); const i = new IndexFlatL2(2); i.add([0,0, 1,1]); const r = i.search([0.9,0.9], 1); if (r.labels[0] !== 1) throw new Error("wrong search result " + JSON.stringify(r)); console.log("ok");`;
  const result = spawnSync(process.execPath, ["-e", probe], { cwd: root, encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "1" } });
  return { ok: result.status === 0 && result.stdout.trim() === "ok", output: (result.stderr || result.stdout || "").trim() };
}

export function buildFaiss(root) {
  const pkg = faissPackageDir(root);
  const target = join(pkg, "build", "Release", "faiss-node.node");
  if (existsSync(target) && verifyFaiss(root).ok) {
    log("faiss-node: already built and working");
    return;
  }
  log("faiss-node: trying the prebuilt binary (needs GitHub)");
  const prebuilt = spawnSync(process.execPath, [require.resolve("prebuild-install/bin.js", { paths: [pkg] }), "--runtime", "napi"], {
    cwd: pkg,
    encoding: "utf8",
    timeout: 30_000,
  });
  if (prebuilt.status === 0 && verifyFaiss(root).ok) {
    log("faiss-node: prebuilt binary installed");
    return;
  }
  log("faiss-node: no prebuilt binary; compiling src/faiss.cc against the system libfaiss");
  if (!existsSync("/usr/include/faiss/Index.h")) {
    throw new Error("libfaiss-dev is missing: run `apt-get install -y libfaiss-dev` (npm run setup does this when run as root)");
  }
  const buildDir = join(pkg, "build", "Release");
  mkdirSync(buildDir, { recursive: true });
  const shim = join(pkg, "build", "council-faiss-shim.h");
  // faiss 1.7.3 declares idx_t inside Index; faiss-node expects the later namespace-level alias.
  writeFileSync(shim, "#pragma once\n#include <faiss/Index.h>\nnamespace faiss { using idx_t = Index::idx_t; }\n");
  const addonApi = dirname(require.resolve("node-addon-api/package.json", { paths: [pkg] }));
  const nodeInclude = findNodeInclude();
  run("g++", [
    "-shared", "-fPIC", "-O2", "-std=c++17", "-fopenmp", "-frtti", "-fexceptions",
    "-DNAPI_VERSION=8", "-DNAPI_CPP_EXCEPTIONS", "-DNODE_ADDON_API_DISABLE_DEPRECATED",
    "-include", shim,
    `-I${nodeInclude}`, `-I${addonApi}`,
    join(pkg, "src", "faiss.cc"),
    "-o", target,
    "-lfaiss", "-fopenmp",
  ]);
  const check = verifyFaiss(root);
  if (!check.ok) throw new Error(`faiss-node compiled but does not work: ${check.output}`);
  log("faiss-node: compiled and verified (add + search)");
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
  throw new Error("Node's headers (node_api.h) were not found; install the nodejs development headers");
}
