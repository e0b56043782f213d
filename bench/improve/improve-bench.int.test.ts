import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { PROJECT_ROOT, SEEDLING_PATH } from "../../core/index.js";
import { createTinyModel, TINY_MODEL_SHAPE } from "../../test/helpers/tiny-model.js";
import { buildTldrBench, itemsToJsonl, runImproveBench } from "./index.js";

const TLDR = join(PROJECT_ROOT, "..", "shared", "datasets", "tldr", "pages");
const dirs: string[] = [];
afterAll(async () => {
  if (process.env.KEEP_BENCH_DIR !== "1") for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

it.runIf(existsSync(TLDR))(
  "one tiny cycle against a real council serve and a real council nightly --once: results.json, chart, eval never trained on",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "council-bench-improve-test-"));
    dirs.push(dir);
    // The seedling when built; else a tiny random GGUF with a context long enough for the training examples
    // (the trainer requires every example to fit the base model's context).
    const model = existsSync(SEEDLING_PATH) ? SEEDLING_PATH : await createTinyModel({ dir, shape: { ...TINY_MODEL_SHAPE, contextLength: 2048 } });
    const bench = buildTldrBench({ root: TLDR, pages: ["tar", "ls"], limit: 4, evalLimit: 2 });
    const evalFile = join(dir, "eval.jsonl");
    await writeFile(evalFile, itemsToJsonl(bench.eval));
    const outDir = join(dir, "out");
    const workDir = join(dir, "work");
    const results = await runImproveBench({
      traffic: bench.traffic,
      eval: bench.eval,
      kbPages: bench.kbPages,
      evalFile,
      cycles: 1,
      outDir,
      workDir,
      concurrency: 1,
      users: 4,
      env: {
        COUNCIL_MODEL: model,
        COUNCIL_PARALLEL: "1",
        COUNCIL_THREADS: "1",
        COUNCIL_MAX_TOKENS: "24",
        COUNCIL_TRAIN_EPOCHS: "1",
        COUNCIL_CANARY_STEPS: "50,100",
        COUNCIL_CANARY_INTERVAL_S: "5",
        COUNCIL_CANARY_MIN_REQUESTS: "1",
        COUNCIL_CANARY_DEADLINE_S: "120",
      },
    });

    const written = JSON.parse(await readFile(join(outDir, "results.json"), "utf8")) as typeof results;
    expect(written).toEqual(results);
    expect(Object.keys(written).sort()).toEqual(["baseline", "cycles"]);
    expect(Object.keys(written.baseline).sort()).toEqual(["council_success", "eval_success", "served", "traffic_success"]);
    expect(written.cycles).toHaveLength(1);
    const row = written.cycles[0]!;
    expect(Object.keys(row).sort()).toEqual([
      "accepted", "council_repeat_failure_rate", "council_success", "cycle", "cycle_seconds", "eval_success", "harvested", "outcome", "regression_kept", "repeat_failure_rate",
      "right_candidate_share", "served", "traffic_success", "training_seconds", "verified_released", "vote_precision", "vote_recall",
    ]);
    for (const rate of [written.baseline.traffic_success, written.baseline.eval_success, row.traffic_success, row.eval_success, row.repeat_failure_rate, row.regression_kept]) {
      expect(rate).toBeGreaterThanOrEqual(0);
      expect(rate).toBeLessThanOrEqual(1);
    }
    expect(row.cycle_seconds).toBeGreaterThan(0);
    expect(readFileSync(join(outDir, "chart.svg"), "utf8")).toContain("<svg");

    const details = JSON.parse(await readFile(join(outDir, "details.json"), "utf8")) as { days: Array<{ traffic: Array<{ passed: boolean; rated: number }> }>; nights: Array<{ summary: { outcome: string; harvested: number } }> };
    expect(["promoted", "rolled-back", "gate-failed", "memory-only", "nothing-to-do"]).toContain(details.nights[0]!.summary.outcome);
    // Every traffic answer was rated by the simulated user: 👍 on pass, 👎 on fail.
    for (const asked of details.days[0]!.traffic) expect(asked.rated).toBe(asked.passed ? 1 : -1);
    const baselineFailures = details.days[0]!.traffic.filter((asked) => !asked.passed).length;
    if (baselineFailures > 0) expect(row.harvested).toBeGreaterThan(0);
    // The eval file reached the gate as the holdout suite.
    const suites = (details.nights[0]!.summary as unknown as { suites: Array<{ suite: string; total: number }> }).suites;
    if (suites.length > 0) expect(suites.find((suite) => suite.suite === "holdout")?.total).toBe(bench.eval.length);

    // The eval questions never reach training data: the run's dataset files and the accepted rewrites (they are in
    // memory, where the simulated eval user asked them, and in gate.json, the holdout report).
    const trainingFiles = filesUnder(join(workDir, "data")).filter((path) => /[\\/](dataset|accepted)[\\/][^\\/]+\.jsonl$/.test(path));
    if (row.accepted > 0) expect(trainingFiles.length).toBeGreaterThan(0);
    for (const path of trainingFiles) {
      const text = readFileSync(path, "utf8");
      for (const item of bench.eval) expect(text.includes(item.question), `${item.id} in ${path}`).toBe(false);
    }
  },
  3_600_000,
);
