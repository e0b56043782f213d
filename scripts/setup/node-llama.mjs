// node-llama-cpp's postinstall (skipped: .npmrc ignore-scripts) only calls getLlama() once, which tests
// the prebuilt binary for this platform (@node-llama-cpp/linux-x64) and, when none works, builds one from
// its bundled llama.cpp source. We do the same check explicitly and fall back to the same source build.
import { join } from "node:path";
import { capture, log, run, SetupError } from "./util.mjs";

// A CommonJS `-e` probe: node-llama-cpp forks a test process that inherits execArgv, and an
// `--input-type=module` in execArgv would break that fork.
const PROBE = `import("node-llama-cpp").then(async ({ getLlama }) => { const llama = await getLlama({ gpu: false, build: "never", progressLogs: false, logLevel: "error" }); console.log(JSON.stringify({ ok: true, buildType: llama.buildType, release: llama.llamaCppRelease.release })); await llama.dispose(); }).catch((error) => { console.log(JSON.stringify({ ok: false, error: String(error) })); process.exitCode = 1; });`;

export function verifyNodeLlamaCpp(root) {
  const result = capture(process.execPath, ["-e", PROBE], { cwd: root, timeout: 120_000 });
  const line = result.stdout.trim().split("\n").pop() ?? "";
  try {
    const parsed = JSON.parse(line);
    return { ok: result.ok && parsed.ok === true, ...parsed, output: result.output };
  } catch {
    return { ok: false, output: result.output };
  }
}

export function ensureNodeLlamaCpp({ root }) {
  const check = verifyNodeLlamaCpp(root);
  if (check.ok) return { status: `CPU binary loads (${check.buildType}, llama.cpp ${check.release})` };
  log(`node-llama-cpp: no working prebuilt CPU binary (${check.error ?? check.output}); building it from the bundled llama.cpp source`);
  run("nice", ["-n", "10", process.execPath, join(root, "node_modules", "node-llama-cpp", "dist", "cli", "cli.js"), "source", "build", "--gpu", "false", "--noUsageExample"], {
    cwd: root,
    fix: "apt-get install -y cmake g++, then npm run setup",
  });
  const again = verifyNodeLlamaCpp(root);
  if (!again.ok) throw new SetupError(`node-llama-cpp still has no working binary: ${again.error ?? again.output}`, { fix: "npx --no node-llama-cpp source build --gpu false" });
  return { status: "built from source (CPU)" };
}
