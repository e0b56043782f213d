import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig, PROJECT_ROOT } from "../../core/index.js";
import { defaultProbes, runDoctor, type DoctorReport } from "./doctor.js";

// Runs the real checks on this machine: after `npm run setup`, every required piece must work.
const run = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), "council-doctor-int-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const byName = (report: DoctorReport) => Object.fromEntries(report.checks.map((check) => [check.name, check]));

describe("council doctor on this machine", () => {
  it("finds every native piece, the model, Prometheus and Chromium working", async () => {
    const report = await runDoctor({ probes: defaultProbes({ config: loadConfig({ env: {} }) }) });
    const broken = report.checks.filter((check) => check.status !== "ok").map((check) => `${check.name}: ${check.detail} (fix: ${check.fix})`);
    expect(broken).toEqual([]);
    const checks = byName(report);
    expect(checks["faiss-node"]?.detail).toBe("IndexFlatL2 add + search ok");
    expect(checks["better-sqlite3"]?.detail).toMatch(/^in-memory database ok, SQLite 3\./);
    expect(checks["node-llama-cpp"]?.detail).toMatch(/^CPU binary loads/);
    expect(checks["llama-finetune"]?.detail).toMatch(/version: \d+/);
    expect(checks["model"]?.detail).toMatch(/GGUF v3/);
  });

  it("reports missing llama.cpp tools and a non-GGUF model as broken, with the fix", async () => {
    const notAModel = join(scratch, "not-a-model.gguf");
    writeFileSync(notAModel, "plain text, not a model");
    const config = loadConfig({ env: {}, overrides: { model: { path: notAModel } } });
    const report = await runDoctor({ probes: defaultProbes({ config, nativeBuildDir: join(scratch, "no-build") }) });
    const checks = byName(report);
    expect(report.ok).toBe(false);
    expect(checks["llama-finetune"]).toMatchObject({ status: "fail", fix: "npm run setup -- --only llama.cpp" });
    expect(checks["llama.cpp build"]?.status).toBe("fail");
    expect(checks["model"]).toMatchObject({ status: "fail" });
    expect(checks["model"]?.detail).toContain("no GGUF magic");
    expect(checks["faiss-node"]?.status).toBe("ok");
  });

  it("the CLI prints the report as JSON and exits 0 on a set-up machine", async () => {
    const { stdout } = await run(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "scripts", "cli.ts"), "doctor", "--json"], { cwd: PROJECT_ROOT, timeout: 180_000 });
    const report = JSON.parse(stdout) as DoctorReport;
    expect(report.ok).toBe(true);
    expect(report.checks.map((check) => check.name)).toEqual(expect.arrayContaining(["faiss-node", "llama-server", "model", "prometheus", "chromium"]));
  });
});
