import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SEEDLING_PATH } from "../../core/index.js";
import { PERF_SECTIONS, runPerfBench, type PerfReport } from "./index.js";

/**
 * `council bench perf --quick` on the real parts: the standalone benches in child processes (real seedling
 * inference, real faiss-node, a real server with WebSocket clients), the hot swap on node-llama-cpp with the real
 * registry and watcher, the rollback with the real canary controller. Checks the file's shape and that every
 * section measured something sane; no timing asserts (the targets are reported, not asserted).
 */
describe("bench perf (quick)", () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), "council-perf-int-"));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it("runs every section side by side and writes perf-<date>-quick.json with checks per target", async () => {
    expect(existsSync(SEEDLING_PATH)).toBe(true);
    const lines: string[] = [];
    const { report, file } = await runPerfBench({ quick: true, outDir: out, log: (line) => lines.push(line) });
    expect(file).toBe(join(out, `perf-${report.date.slice(0, 10)}-quick.json`));
    const written = JSON.parse(await readFile(file, "utf8")) as PerfReport;
    expect(written.summary).toEqual(report.summary);
    expect(written.sections.map((s) => s.section)).toEqual([...PERF_SECTIONS]);
    for (const section of written.sections) {
      expect(section.error, `${section.section}: ${section.error}\n${lines.join("\n")}`).toBeUndefined();
      expect(section.checks.length).toBeGreaterThan(0);
      for (const c of section.checks) expect(c.measured, `${section.section}: ${c.name}`).not.toBeNull();
    }
    const bySection = Object.fromEntries(written.sections.map((s) => [s.section, s.details as Record<string, any>])); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(bySection.memory!.results[0]).toMatchObject({ entries: 2000 });
    expect(bySection.memory!.results[0].recall_at_10).toBeGreaterThan(0.5);
    expect(bySection.swap!.requests).toBeGreaterThan(0);
    expect(bySection.swap!.msUntilServed.all).toHaveLength(2);
    expect(bySection.rollback!.trials[0].reason).toMatch(/^success_rate/);
    expect(bySection.ws!.results.sent).toBeGreaterThan(0);
    expect(bySection.tokens!.council.tokens).toBe(32);
    expect(report.summary.checks).toBe(written.sections.reduce((n, s) => n + s.checks.length, 0));
  }, 900_000);
});
