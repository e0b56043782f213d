import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { access, constants, open, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Command } from "commander";
import { loadConfig, modelPath, NATIVE_BUILD_DIR, PROJECT_ROOT, type CouncilConfig } from "../../core/index.js";
import { checkTrainBase, trainers } from "../../training/index.js";
import { registryProbes, registryReports } from "./doctor-registries.js";

/** What one check found. `fix` is the exact command or action that repairs it. */
export interface ProbeOutcome {
  ok: boolean;
  detail: string;
  fix?: string;
}

export interface DoctorProbe {
  name: string;
  /** A broken required piece makes `council doctor` exit 1; an optional one is a warning. */
  required: boolean;
  run(): Promise<ProbeOutcome>;
}

export interface DoctorCheck extends ProbeOutcome {
  name: string;
  required: boolean;
  status: "ok" | "warn" | "fail";
  ms: number;
}

export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
}

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the process could not start (ENOENT) or timed out. */
  error?: string;
}

/** Runs a program without a shell. Injected so tests can script what the machine answers. */
export type RunProcess = (command: string, args: string[], options: { cwd: string; timeoutMs: number }) => Promise<ProcessResult>;

export const runProcess: RunProcess = (command, args, { cwd, timeoutMs }) =>
  new Promise((resolve) => {
    execFile(command, args, { cwd, timeout: timeoutMs, maxBuffer: 4 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
      const failure = error && (error.killed ? `timed out after ${timeoutMs} ms` : typeof error.code === "string" ? error.code : undefined);
      resolve({ code, stdout: String(stdout), stderr: String(stderr), ...(failure ? { error: failure } : {}) });
    });
  });

/** The llama.cpp tools `npm run setup` builds into native/build/bin. */
export const LLAMA_TOOLS = ["llama-finetune", "llama-completion", "llama-server", "llama-export-lora"] as const;
export const LORA_TRAINER = "council-lora-train";

const SETUP_LLAMA = "npm run setup -- --only llama.cpp";

export interface DefaultProbesOptions {
  /** Loaded config, or the error loading it raised (the config check reports it). */
  config: CouncilConfig | Error;
  /** @default PROJECT_ROOT */
  root?: string;
  /** @default NATIVE_BUILD_DIR */
  nativeBuildDir?: string;
  /** @default runProcess */
  exec?: RunProcess;
  /** @default process.execPath */
  nodePath?: string;
  /** Chromium executables tried in order. @default chromium, chromium-browser, google-chrome */
  chromiumCandidates?: string[];
}

const FAISS_PROBE = `const { IndexFlatL2 } = require("faiss-node"); const i = new IndexFlatL2(2); i.add([0, 0, 1, 1]); const r = i.search([0.9, 0.9], 1); if (r.labels[0] !== 1) throw new Error("wrong search result " + JSON.stringify(r)); console.log("IndexFlatL2 add + search ok");`;
const SQLITE_PROBE = `const Database = require("better-sqlite3"); const db = new Database(":memory:"); const row = db.prepare("select sqlite_version() as v, 41 + 1 as x").get(); if (row.x !== 42) throw new Error("wrong result"); db.close(); console.log("in-memory database ok, SQLite " + row.v);`;
// CommonJS on purpose: node-llama-cpp forks a test process that inherits execArgv.
const LLAMA_PROBE = `import("node-llama-cpp").then(async ({ getLlama }) => { const llama = await getLlama({ gpu: false, build: "never", progressLogs: false, logLevel: "error" }); console.log("CPU binary loads (" + llama.buildType + ", llama.cpp " + llama.llamaCppRelease.release + ")"); await llama.dispose(); });`;

/** The real checks: every native piece, the model, Prometheus and Chromium. */
export function defaultProbes({
  config,
  root = PROJECT_ROOT,
  nativeBuildDir = NATIVE_BUILD_DIR,
  exec = runProcess,
  nodePath = process.execPath,
  chromiumCandidates = ["chromium", "chromium-browser", "google-chrome"],
}: DefaultProbesOptions): DoctorProbe[] {
  const nodeProbe = (script: string, fix: string, timeoutMs = 60_000) => async (): Promise<ProbeOutcome> => {
    const result = await exec(nodePath, ["-e", script], { cwd: root, timeoutMs });
    if (result.code === 0 && !result.error) return { ok: true, detail: lastLine(result.stdout) };
    return { ok: false, detail: `fails: ${firstErrorLine(result)}`, fix };
  };
  const binDir = join(nativeBuildDir, "bin");
  const tools: string[] = [...LLAMA_TOOLS];
  if (existsSync(join(root, "native", "lora-train", "CMakeLists.txt"))) tools.push(LORA_TRAINER);
  return [
    {
      name: "config",
      required: true,
      run: async () =>
        config instanceof Error
          ? { ok: false, detail: config.message, fix: "correct the named COUNCIL_* variable or council.config.json key (see the README's configuration table)" }
          : { ok: true, detail: `valid (data dir ${config.dataDir})` },
    },
    { name: "faiss-node", required: true, run: nodeProbe(FAISS_PROBE, "npm run setup -- --only faiss-node (compiles it against libfaiss-dev)") },
    { name: "better-sqlite3", required: true, run: nodeProbe(SQLITE_PROBE, "npm run setup -- --only better-sqlite3") },
    { name: "node-llama-cpp", required: true, run: nodeProbe(LLAMA_PROBE, "npm run setup -- --only node-llama-cpp", 120_000) },
    { name: "llama.cpp build", required: true, run: () => checkManifest(nativeBuildDir) },
    ...tools.map((tool) => ({ name: tool, required: true, run: () => checkBinary({ path: join(binDir, tool), root, exec, runVersion: tool !== LORA_TRAINER }) })),
    { name: "model", required: true, run: () => checkModel(config instanceof Error ? undefined : config) },
    { name: "training base", required: true, run: () => checkTrainingBase(config instanceof Error ? undefined : config) },
    ...registryProbes({ config }),
    { name: "prometheus", required: false, run: () => checkPrometheus({ exec, root }) },
    { name: "chromium", required: false, run: () => checkChromium({ exec, root, candidates: chromiumCandidates }) },
  ];
}

async function checkManifest(nativeBuildDir: string): Promise<ProbeOutcome> {
  const path = join(nativeBuildDir, "manifest.json");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return { ok: false, detail: `no ${path}`, fix: SETUP_LLAMA };
  }
  try {
    const manifest = JSON.parse(text) as { llamaCpp?: { tag?: string; commit?: string }; cacheKey?: string };
    if (!manifest.llamaCpp?.commit) throw new Error("no llamaCpp.commit");
    return { ok: true, detail: `llama.cpp ${manifest.llamaCpp.tag ?? "?"} (${manifest.llamaCpp.commit.slice(0, 12)}), cache key ${manifest.cacheKey ?? "?"}` };
  } catch (cause) {
    return { ok: false, detail: `${path} is unreadable: ${(cause as Error).message}`, fix: SETUP_LLAMA };
  }
}

async function checkBinary({ path, root, exec, runVersion }: { path: string; root: string; exec: RunProcess; runVersion: boolean }): Promise<ProbeOutcome> {
  try {
    await access(path, constants.X_OK);
  } catch {
    return { ok: false, detail: `missing or not executable: ${relative(root, path)}`, fix: SETUP_LLAMA };
  }
  if (!runVersion) return { ok: true, detail: `${relative(root, path)} (${formatBytes((await stat(path)).size)})` };
  const result = await exec(path, ["--version"], { cwd: root, timeoutMs: 20_000 });
  const version = `${result.stdout}\n${result.stderr}`.split("\n").find((line) => line.startsWith("version:"));
  if (result.code !== 0 || result.error || !version) {
    return { ok: false, detail: `${relative(root, path)} --version fails: ${firstErrorLine(result)}`, fix: `rm ${relative(root, path)} && ${SETUP_LLAMA}` };
  }
  return { ok: true, detail: `${relative(root, path)} (${version.trim()})` };
}

/** The configured model (or the seedling): exists, non-empty, GGUF magic and a known version. */
export async function checkModel(config: CouncilConfig | undefined): Promise<ProbeOutcome> {
  const path = config ? modelPath(config) : join(PROJECT_ROOT, "models", "seedling.gguf");
  const isSeedling = config?.model.path === undefined;
  const missingFix = isSeedling ? "npx council seedling build (or npm run setup)" : `check COUNCIL_MODEL / model.path (now ${path})`;
  if (config && config.model.backend !== "llama") return { ok: true, detail: `backend ${config.model.backend}: no local GGUF needed` };
  if (path.startsWith("hf:")) return { ok: true, detail: `${path}: resolved by node-llama-cpp at start (offline, it must already be in its cache)` };
  const header = Buffer.alloc(8);
  let size: number;
  try {
    const handle = await open(path, "r");
    try {
      size = (await handle.stat()).size;
      await handle.read(header, 0, 8, 0);
    } finally {
      await handle.close();
    }
  } catch {
    return { ok: false, detail: `not found: ${path}`, fix: missingFix };
  }
  if (size < 8 || header.toString("latin1", 0, 4) !== "GGUF") {
    return { ok: false, detail: `${path} is not a GGUF file (${size} bytes, no GGUF magic)`, fix: isSeedling ? `rm ${path} && npx council seedling build` : `point COUNCIL_MODEL at a valid GGUF (now ${path})` };
  }
  const version = header.readUInt32LE(4);
  if (version < 2 || version > 3) return { ok: false, detail: `${path}: unsupported GGUF version ${version}`, fix: missingFix };
  return { ok: true, detail: `${path} (GGUF v${version}, ${formatBytes(size)}${isSeedling ? ", seedling" : ""})` };
}

/** The trainer and its base fit together: a GGUF for llamacpp-lora, a Hugging Face folder for qlora (COUNCIL_TRAIN_BASE). */
export async function checkTrainingBase(config: CouncilConfig | undefined): Promise<ProbeOutcome> {
  if (config === undefined) return { ok: true, detail: "not checked: the config did not load" };
  if (!trainers.has(config.training.trainer)) return { ok: true, detail: `not checked: trainer "${config.training.trainer}" is not registered (see the trainer check)` };
  const check = await checkTrainBase({ config });
  return check.ok ? { ok: true, detail: check.detail } : { ok: false, detail: check.problem, fix: check.fix };
}

async function checkPrometheus({ exec, root }: { exec: RunProcess; root: string }): Promise<ProbeOutcome> {
  const details: string[] = [];
  for (const binary of ["promtool", "prometheus"]) {
    const result = await exec(binary, ["--version"], { cwd: root, timeoutMs: 20_000 });
    if (result.code !== 0 || result.error) {
      return { ok: false, detail: `${binary} not working: ${firstErrorLine(result)}`, fix: "as root: apt-get install -y prometheus (or npm run setup)" };
    }
    details.push(`${binary} ${firstLine(`${result.stdout}\n${result.stderr}`).replace(/^\S+ version /, "")}`);
  }
  return { ok: true, detail: details.join("; ") };
}

async function checkChromium({ exec, root, candidates }: { exec: RunProcess; root: string; candidates: string[] }): Promise<ProbeOutcome> {
  for (const binary of candidates) {
    const result = await exec(binary, ["--version"], { cwd: root, timeoutMs: 30_000 });
    if (result.code === 0 && !result.error) return { ok: true, detail: `${binary}: ${firstLine(result.stdout)}` };
  }
  return { ok: false, detail: `none of ${candidates.join(", ")} runs`, fix: "as root: apt-get install -y chromium (or npm run setup)" };
}

/** Runs every probe (concurrently); a probe that throws counts as a failed check. */
export async function runDoctor({ probes, now = () => performance.now() }: { probes: DoctorProbe[]; now?: () => number }): Promise<DoctorReport> {
  const checks = await Promise.all(
    probes.map(async (probe): Promise<DoctorCheck> => {
      const started = now();
      let outcome: ProbeOutcome;
      try {
        outcome = await probe.run();
      } catch (error) {
        outcome = { ok: false, detail: `check crashed: ${(error as Error).message}`, fix: "npm run setup" };
      }
      const status = outcome.ok ? "ok" : probe.required ? "fail" : "warn";
      return { name: probe.name, required: probe.required, status, ...outcome, ms: Math.round(now() - started) };
    }),
  );
  return { ok: checks.every((check) => check.status !== "fail"), checks };
}

export function formatReport(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((check) => check.name.length));
  const lines = report.checks.map((check) => {
    const mark = { ok: "ok  ", warn: "WARN", fail: "FAIL" }[check.status];
    const row = `${mark}  ${check.name.padEnd(width)}  ${check.detail}`;
    return check.ok || !check.fix ? row : `${row}\n${" ".repeat(width + 8)}fix: ${check.fix}`;
  });
  const failed = report.checks.filter((check) => check.status === "fail").length;
  const warned = report.checks.filter((check) => check.status === "warn").length;
  lines.push(report.ok ? `all required pieces work${warned ? ` (${warned} optional warning${warned > 1 ? "s" : ""})` : ""}` : `${failed} required piece${failed > 1 ? "s are" : " is"} broken`);
  return lines.join("\n");
}

export function register(program: Command): void {
  program
    .command("doctor")
    .description("Check what is installed and working (faiss-node, SQLite, node-llama-cpp, llama.cpp tools, model, Prometheus, Chromium) and list the registered backends, with the fix for each problem")
    .option("--json", "print the report as JSON")
    .action(async (options: { json?: boolean }) => {
      let config: CouncilConfig | Error;
      try {
        config = loadConfig();
      } catch (error) {
        config = error as Error;
      }
      const report = await runDoctor({ probes: defaultProbes({ config }) });
      console.log(options.json ? JSON.stringify({ ...report, registries: registryReports({ config }) }, null, 2) : formatReport(report));
      if (!report.ok) process.exitCode = 1;
    });
}

function lastLine(text: string): string {
  return text.trim().split("\n").pop() ?? "";
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "";
}

function firstErrorLine(result: ProcessResult): string {
  if (result.error) return result.error;
  const text = `${result.stderr}\n${result.stdout}`.trim();
  const line = text.split("\n").find((candidate) => /error|not found|cannot|failed/i.test(candidate)) ?? text.split("\n")[0];
  return line?.trim() || `exit code ${result.code}`;
}

function formatBytes(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}
