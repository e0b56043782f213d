#!/usr/bin/env node
// `npm run setup`: makes a fresh Debian 12 + Node 20 machine ready for Council, offline except for the npm
// registry and Debian apt. Idempotent: each step checks first and does nothing when already done, and native
// builds are cached under ${XDG_CACHE_HOME:-~/.cache}/council keyed by a hash of their inputs.
// Node builtins only (this runs before node_modules exists).
//
//   node scripts/setup/setup.mjs [--only step,step] [--skip step,step] [--no-cache] [--jobs N]
//   steps: apt, npm, better-sqlite3, faiss-node, node-llama-cpp, llama.cpp, build, seedling
import { availableParallelism } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ensureDebianPackages } from "./apt.mjs";
import { ensureBuild } from "./build.mjs";
import { ensureFaiss } from "./faiss.mjs";
import { ensureLlamaCpp } from "./llama-cpp.mjs";
import { ensureNodeLlamaCpp } from "./node-llama.mjs";
import { ensureNodeModules } from "./npm.mjs";
import { ensureSeedling } from "./seedling.mjs";
import { ensureBetterSqlite } from "./sqlite.mjs";
import { cacheRoot, formatSeconds, log, SetupError } from "./util.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

const { values: options } = parseArgs({
  options: {
    only: { type: "string" },
    skip: { type: "string" },
    "no-cache": { type: "boolean", default: false },
    jobs: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});

const steps = [
  { name: "apt", title: "Debian packages", run: () => ensureDebianPackages() },
  { name: "npm", title: "node_modules (npm ci)", run: (context) => ensureNodeModules(context) },
  { name: "better-sqlite3", title: "better-sqlite3 native module", run: (context) => ensureBetterSqlite(context) },
  { name: "faiss-node", title: "faiss-node native module", run: (context) => ensureFaiss(context) },
  { name: "node-llama-cpp", title: "node-llama-cpp CPU binary", run: (context) => ensureNodeLlamaCpp(context) },
  { name: "llama.cpp", title: "llama.cpp tools + LoRA trainer", run: (context) => ensureLlamaCpp(context) },
  { name: "build", title: "TypeScript build (dist/)", run: (context) => ensureBuild(context) },
  { name: "seedling", title: "seedling model", run: (context) => ensureSeedling(context) },
];

if (options.help) {
  console.log("usage: npm run setup -- [--only step,step] [--skip step,step] [--no-cache] [--jobs N]");
  console.log(`steps: ${steps.map((step) => step.name).join(", ")}`);
  console.log("cache: ${COUNCIL_SETUP_CACHE:-${XDG_CACHE_HOME:-~/.cache}/council} (COUNCIL_SETUP_CACHE=off disables it)");
  process.exit(0);
}

const known = new Set(steps.map((step) => step.name));
const parseList = (value) => (value ? value.split(",").map((name) => name.trim()).filter(Boolean) : undefined);
const only = parseList(options.only);
const skip = parseList(options.skip) ?? [];
for (const name of [...(only ?? []), ...skip]) {
  if (!known.has(name)) {
    console.error(`[setup] unknown step "${name}"; steps: ${[...known].join(", ")}`);
    process.exit(2);
  }
}
const jobs = Number(options.jobs ?? process.env.COUNCIL_SETUP_JOBS ?? availableParallelism());
if (!Number.isInteger(jobs) || jobs < 1) {
  console.error(`[setup] --jobs must be a positive integer, got "${options.jobs}"`);
  process.exit(2);
}

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`[setup] Node ${process.versions.node} is too old: Council needs Node >= 20.19 (install Node 20 LTS from nodesource or your distribution)`);
  process.exit(1);
}

const context = { root, cache: cacheRoot({ noCache: options["no-cache"] }), jobs };
log(`project ${root}; cache ${context.cache ?? "off"}; jobs ${jobs}`);
const results = [];
const started = performance.now();
let failure;
for (const step of steps) {
  if ((only && !only.includes(step.name)) || skip.includes(step.name)) continue;
  const stepStart = performance.now();
  log(`${step.name}: ${step.title} …`);
  try {
    const result = step.run(context);
    const ms = performance.now() - stepStart;
    results.push({ name: step.name, status: result.status, ms, ok: true });
    log(`${step.name}: ${result.status} (${formatSeconds(ms)})`);
  } catch (error) {
    const ms = performance.now() - stepStart;
    results.push({ name: step.name, status: "FAILED", ms, ok: false });
    failure = { step: step.name, error };
    break;
  }
}

const total = performance.now() - started;
console.log("\n[setup] summary");
const width = Math.max(...results.map((result) => result.name.length));
for (const result of results) console.log(`  ${result.ok ? "ok  " : "FAIL"} ${result.name.padEnd(width)}  ${formatSeconds(result.ms).padStart(8)}  ${result.status}`);
console.log(`  total ${formatSeconds(total)}`);
if (failure) {
  const { step, error } = failure;
  console.error(`\n[setup] ${step} failed: ${error.message}`);
  if (error instanceof SetupError && error.fix) console.error(`[setup] fix: ${error.fix}`);
  else console.error(error.stack);
  process.exit(1);
}
log(`done: try \`npx council doctor\` to check every piece (${join("native", "build", "bin")} holds the llama.cpp tools)`);
