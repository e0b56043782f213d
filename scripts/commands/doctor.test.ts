import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../core/index.js";
import { checkModel, defaultProbes, formatReport, runDoctor, type DoctorProbe, type ProcessResult, type RunProcess } from "./doctor.js";

const okProbe = (name: string, required = true): DoctorProbe => ({ name, required, run: async () => ({ ok: true, detail: `${name} fine` }) });
const badProbe = (name: string, required: boolean, fix = `fix ${name}`): DoctorProbe => ({ name, required, run: async () => ({ ok: false, detail: `${name} broken`, fix }) });

describe("runDoctor", () => {
  it("is ok when every required probe passes, and reports optional failures as warnings", async () => {
    const report = await runDoctor({ probes: [okProbe("faiss-node"), badProbe("chromium", false)] });
    expect(report.ok).toBe(true);
    expect(report.checks.map((check) => [check.name, check.status])).toEqual([
      ["faiss-node", "ok"],
      ["chromium", "warn"],
    ]);
  });

  it("fails when a required probe fails, and the text report names the fix", async () => {
    const report = await runDoctor({ probes: [okProbe("config"), badProbe("llama-finetune", true, "npm run setup -- --only llama.cpp")] });
    expect(report.ok).toBe(false);
    const text = formatReport(report);
    expect(text).toMatch(/FAIL\s+llama-finetune\s+llama-finetune broken/);
    expect(text).toContain("fix: npm run setup -- --only llama.cpp");
    expect(text).toContain("1 required piece is broken");
  });

  it("turns a probe that throws into a failed check instead of crashing", async () => {
    const report = await runDoctor({ probes: [{ name: "faiss-node", required: true, run: async () => Promise.reject(new Error("boom")) }] });
    expect(report.ok).toBe(false);
    expect(report.checks[0]).toMatchObject({ status: "fail", detail: "check crashed: boom", fix: "npm run setup" });
  });
});

describe("defaultProbes (scripted machine)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "council-doctor-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A fake process runner: answers by program name, records every call. */
  function scriptedExec(answers: Record<string, Partial<ProcessResult>>): { exec: RunProcess; calls: string[] } {
    const calls: string[] = [];
    const exec: RunProcess = async (command, args) => {
      calls.push(`${command} ${args[0] ?? ""}`);
      const key = Object.keys(answers).find((name) => command === name || command.endsWith(`/${name}`));
      if (key === undefined) return { code: null, stdout: "", stderr: "", error: "ENOENT" };
      return { code: 0, stdout: "", stderr: "", ...answers[key] };
    };
    return { exec, calls };
  }

  function makeTree({ tools, manifest = true }: { tools: string[]; manifest?: boolean }): { root: string; nativeBuildDir: string } {
    const root = join(dir, "root");
    const nativeBuildDir = join(root, "native", "build");
    mkdirSync(join(nativeBuildDir, "bin"), { recursive: true });
    for (const tool of tools) {
      writeFileSync(join(nativeBuildDir, "bin", tool), "#!/bin/sh\n");
      chmodSync(join(nativeBuildDir, "bin", tool), 0o755);
    }
    if (manifest) writeFileSync(join(nativeBuildDir, "manifest.json"), JSON.stringify({ llamaCpp: { tag: "v0.5.0", commit: "de3ff815ea7d559ee917f063901b8986f038abc6" }, cacheKey: "abc" }));
    return { root, nativeBuildDir };
  }

  const allTools = ["llama-finetune", "llama-completion", "llama-server", "llama-export-lora"];
  const healthyAnswers = {
    node: { stdout: "probe ok\n" },
    "llama-finetune": { stderr: "version: 1 (de3ff81)\nbuilt with GNU\n" },
    "llama-completion": { stderr: "version: 1 (de3ff81)\n" },
    "llama-server": { stderr: "version: 1 (de3ff81)\n" },
    "llama-export-lora": { stderr: "version: 1 (de3ff81)\n" },
    promtool: { stdout: "promtool, version 2.42.0\n" },
    prometheus: { stdout: "prometheus, version 2.42.0\n" },
    chromium: { stdout: "Chromium 156.0\n" },
  };

  it("passes on a healthy machine and shows versions", async () => {
    const { root, nativeBuildDir } = makeTree({ tools: allTools });
    const model = join(dir, "m.gguf");
    writeFileSync(model, Buffer.concat([Buffer.from("GGUF"), Buffer.from([3, 0, 0, 0]), Buffer.alloc(64)]));
    const config = loadConfig({ env: {}, overrides: { model: { path: model } } });
    const { exec, calls } = scriptedExec(healthyAnswers);
    const report = await runDoctor({ probes: defaultProbes({ config, root, nativeBuildDir, exec, nodePath: "node" }) });
    expect(report.checks.filter((check) => check.status !== "ok")).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checks.find((check) => check.name === "llama.cpp build")?.detail).toContain("v0.5.0 (de3ff815ea7d)");
    expect(report.checks.find((check) => check.name === "llama-server")?.detail).toContain("version: 1 (de3ff81)");
    expect(report.checks.find((check) => check.name === "model")?.detail).toContain("GGUF v3");
    expect(calls).toContain("chromium --version");
  });

  it("names the fix for a missing binary, a missing manifest, a crashing native module and a missing model", async () => {
    const { root, nativeBuildDir } = makeTree({ tools: ["llama-finetune", "llama-completion", "llama-export-lora"], manifest: false });
    const config = loadConfig({ env: {}, overrides: { model: { path: join(dir, "absent.gguf") } } });
    const { exec } = scriptedExec({ ...healthyAnswers, node: { code: 1, stderr: "Error: Cannot find module 'faiss-node'\n" } });
    const report = await runDoctor({ probes: defaultProbes({ config, root, nativeBuildDir, exec, nodePath: "node" }) });
    const byName = Object.fromEntries(report.checks.map((check) => [check.name, check]));
    expect(report.ok).toBe(false);
    expect(byName["llama-server"]).toMatchObject({ status: "fail", fix: "npm run setup -- --only llama.cpp" });
    expect(byName["llama-server"]?.detail).toContain("native/build/bin/llama-server");
    expect(byName["llama.cpp build"]).toMatchObject({ status: "fail", fix: "npm run setup -- --only llama.cpp" });
    expect(byName["faiss-node"]).toMatchObject({ status: "fail", detail: "fails: Error: Cannot find module 'faiss-node'" });
    expect(byName["faiss-node"]?.fix).toContain("--only faiss-node");
    expect(byName["model"]).toMatchObject({ status: "fail", detail: `not found: ${join(dir, "absent.gguf")}` });
  });

  it("warns (does not fail) when Prometheus and Chromium are absent", async () => {
    const { root, nativeBuildDir } = makeTree({ tools: allTools });
    const model = join(dir, "m.gguf");
    writeFileSync(model, Buffer.concat([Buffer.from("GGUF"), Buffer.from([3, 0, 0, 0])]));
    const config = loadConfig({ env: {}, overrides: { model: { path: model } } });
    const { promtool: _p, prometheus: _q, chromium: _c, ...rest } = healthyAnswers;
    const { exec } = scriptedExec(rest);
    const report = await runDoctor({ probes: defaultProbes({ config, root, nativeBuildDir, exec, nodePath: "node" }) });
    const byName = Object.fromEntries(report.checks.map((check) => [check.name, check]));
    expect(report.ok).toBe(true);
    expect(byName["prometheus"]).toMatchObject({ status: "warn", fix: "as root: apt-get install -y prometheus (or npm run setup)" });
    expect(byName["chromium"]).toMatchObject({ status: "warn", fix: "as root: apt-get install -y chromium (or npm run setup)" });
  });

  it("fails on a trainer/base pair that cannot train (qlora + a .gguf, llamacpp-lora + a folder) and prints the problem and fix", async () => {
    const { root, nativeBuildDir } = makeTree({ tools: allTools });
    const model = join(dir, "m.gguf");
    writeFileSync(model, Buffer.concat([Buffer.from("GGUF"), Buffer.from([3, 0, 0, 0])]));
    const { exec } = scriptedExec(healthyAnswers);
    const doctor = async (env: Record<string, string>) => runDoctor({ probes: defaultProbes({ config: loadConfig({ env: { COUNCIL_MODEL: model, ...env } }), root, nativeBuildDir, exec, nodePath: "node" }) });

    const qlora = await doctor({ COUNCIL_TRAINER: "qlora", COUNCIL_TRAIN_BASE: model });
    expect(qlora.ok).toBe(false);
    expect(qlora.checks.find((check) => check.name === "training base")).toMatchObject({ status: "fail", detail: `qlora trains on a Hugging Face model folder, but the base ${model} is a file (a GGUF)` });
    expect(formatReport(qlora)).toContain("fix: set COUNCIL_TRAIN_BASE to a Hugging Face model folder (config.json, tokenizer, safetensors), or use COUNCIL_TRAINER=llamacpp-lora (CPU) for a GGUF");

    const native = await doctor({ COUNCIL_TRAIN_BASE: dir });
    expect(native.checks.find((check) => check.name === "training base")).toMatchObject({ status: "fail", detail: `llamacpp-lora trains on a GGUF file, but the base ${dir} is a folder` });

    const fine = await doctor({});
    expect(fine.checks.find((check) => check.name === "training base")).toMatchObject({ status: "ok", detail: `llamacpp-lora trains on ${model} (GGUF, from the served model)` });
  });

  it("reports a bad config as a failed check with the key, not a crash", async () => {
    const { root, nativeBuildDir } = makeTree({ tools: allTools });
    let configError: Error | undefined;
    try {
      loadConfig({ env: { COUNCIL_PORT: "not-a-port" } });
    } catch (error) {
      configError = error as Error;
    }
    expect(configError).toBeDefined();
    const { exec } = scriptedExec(healthyAnswers);
    const report = await runDoctor({ probes: defaultProbes({ config: configError!, root, nativeBuildDir, exec, nodePath: "node" }) });
    expect(report.checks.find((check) => check.name === "config")).toMatchObject({ status: "fail" });
    expect(report.checks.find((check) => check.name === "config")?.detail).toContain("COUNCIL_PORT");
  });
});

describe("checkModel", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "council-doctor-model-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("rejects a file without the GGUF magic and tells how to replace it", async () => {
    const path = join(dir, "fake.gguf");
    writeFileSync(path, "this is not a model at all");
    const outcome = await checkModel(loadConfig({ env: {}, overrides: { model: { path } } }));
    expect(outcome.ok).toBe(false);
    expect(outcome.detail).toContain("no GGUF magic");
    expect(outcome.fix).toContain("COUNCIL_MODEL");
  });

  it("rejects an unsupported GGUF version", async () => {
    const path = join(dir, "v9.gguf");
    writeFileSync(path, Buffer.concat([Buffer.from("GGUF"), Buffer.from([9, 0, 0, 0])]));
    const outcome = await checkModel(loadConfig({ env: {}, overrides: { model: { path } } }));
    expect(outcome).toMatchObject({ ok: false, detail: `${path}: unsupported GGUF version 9` });
  });

  it("needs no local file for the openai backend", async () => {
    const outcome = await checkModel(loadConfig({ env: {}, overrides: { model: { backend: "openai", path: join(dir, "absent.gguf") } } }));
    expect(outcome.ok).toBe(true);
  });
});
