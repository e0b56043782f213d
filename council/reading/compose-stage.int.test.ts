import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT, SEEDLING_PATH } from "../../core/index.js";
import { ggufString, readGguf, readTensorF32, sha256File } from "../../models/index.js";
import { TLDR_ROOT } from "../../training/testing/seedling-items.js";
import { createTinyModel } from "../../test/helpers/tiny-model.js";
import { COMPOSE_STAGE_RECIPE, continueReadingSeedling, type ComposeStageRecipe } from "./index.js";

const haveTorch = spawnSync("/usr/bin/python3", ["-c", "import torch"], { stdio: "ignore" }).status === 0;

/**
 * The compose stage continues the committed reading seedling with the real PyTorch trainer and llama.cpp's
 * tokenizer: it must start from the seedling's weights (not from random ones), keep its tokenizer, and record
 * where it came from.
 */
describe.skipIf(!haveTorch)("compose stage on the committed seedling (real PyTorch trainer; needs Debian's python3-torch)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "council-compose-stage-"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("starts from the seedling's weights: two steps at a tiny learning rate leave it reading, and the GGUF records the stage", async () => {
    const stage: ComposeStageRecipe = {
      ...COMPOSE_STAGE_RECIPE,
      corpus: { ...COMPOSE_STAGE_RECIPE.corpus, maxPages: 60, validationFraction: 0.1, questionsPerExample: 1 },
      train: { ...COMPOSE_STAGE_RECIPE.train, steps: 2, lr: 1e-7, warmup: 1, maxMinutes: undefined, evalEvery: 2, valExamples: 20, valDecode: 6, fullDecode: 2 },
    };
    const out = join(dir, "continued.gguf");
    const report = await continueReadingSeedling({ from: SEEDLING_PATH, out, tldrRoot: TLDR_ROOT, kbDir: join(PROJECT_ROOT, "kb"), stage, workDir: join(dir, "work") });

    expect(report.from.sha256).toBe(await sha256File(SEEDLING_PATH));
    expect(report.key).toMatch(/^reading-[0-9a-f]{16}$/);
    expect(report.corpus.counts.compose).toBeGreaterThan((report.corpus.counts.read ?? 0) / 2);
    // Random weights would give a validation loss near ln(2048) ≈ 7.6 and copy nothing.
    expect(report.final.valLoss).toBeLessThan(1.5);
    const evalEvent = report.log.find((event) => event.event === "eval")!;
    expect(Object.keys(evalEvent.exact_by_kind as object).sort()).toEqual(["compose", "read"]);

    const before = readGguf(SEEDLING_PATH);
    const after = readGguf(out);
    for (const name of ["token_embd.weight", "blk.0.attn_q.weight", "blk.3.ffn_down.weight", "output_norm.weight"]) {
      const a = readTensorF32(before, name);
      const b = readTensorF32(after, name);
      let diff = 0;
      for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
      expect(diff, name).toBeLessThan(1e-3);
    }
    expect(after.metadata.get("tokenizer.ggml.tokens")).toEqual(before.metadata.get("tokenizer.ggml.tokens"));
    expect(JSON.parse(ggufString(after, "council.seedling.stage")).fromSha256).toBe(report.from.sha256);
    expect(JSON.parse(await readFile(join(dir, "continued.json"), "utf8")).sha256).toBe(await sha256File(out));
  }, 300_000);

  it("refuses to continue a model that is not a reading seedling (MODEL_INVALID)", async () => {
    const plain = await createTinyModel({ dir, name: "plain.gguf" });
    await expect(continueReadingSeedling({ from: plain, out: join(dir, "x.gguf"), tldrRoot: TLDR_ROOT })).rejects.toMatchObject({ code: "MODEL_INVALID" });
  });
});
