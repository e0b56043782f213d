import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CouncilError } from "../../core/index.js";
import { READING_KEY_PREFIX } from "../../models/seedling/index.js";
import { ggufString, llamaTensorDims, readGguf, readTensorF32, sha256File } from "../../models/index.js";
import { buildReadingCorpus, type ReadingCorpusOptions } from "./reading-corpus.js";
import { finishReadingSeedling, progressEvents, runTrainer, writeTrainerConfig, type ReadingRecipe, type ReadingSeedlingReport, type ReadingTrainEvent } from "./build-reading-seedling.js";
import { tokenizeReadingCorpus } from "./tokenize-corpus.js";

/**
 * A second pre-training stage on a reading seedling: new question wordings, retrieval as serving does it (hybrid
 * ranker, title boost), and a larger share of `compose` examples — the asked example removed from the knowledge
 * base, so the answer must be written from the page's other examples and what the model knows of the tool.
 */
export interface ComposeStageRecipe {
  stage: "compose";
  seed: number;
  corpus: Required<Pick<ReadingCorpusOptions, "groupSize" | "questionsPerExample" | "validationFraction" | "composeFraction" | "retrieval">> & { maxPages?: number };
  train: ReadingRecipe["train"];
}

/** The compose stage `council seedling build --full` runs after the reading recipe. */
export const COMPOSE_STAGE_RECIPE: ComposeStageRecipe = {
  stage: "compose",
  seed: 20_261_207,
  corpus: { groupSize: 48, questionsPerExample: 2, validationFraction: 0.03, composeFraction: 0.5, retrieval: "serving" },
  train: { steps: 20_000, batch: 12, lr: 6e-4, lrMinRatio: 0.05, warmup: 100, weightDecay: 0.1, clip: 1, answerWeight: 1, contextWeight: 0.1, maxLength: 384, maxMinutes: 55, evalEvery: 400, valExamples: 300, valDecode: 60, fullDecode: 10, decodeTokens: 40 },
};

export interface ComposeStageReport extends ReadingSeedlingReport {
  stage: ComposeStageRecipe;
  /** The model this stage started from, and its own report (models/seedling.json before this stage). */
  from: { sha256: string; key: string; report?: unknown };
}

export interface ComposeStageOptions {
  /** The reading seedling to continue (its tokenizer, shape and weights). */
  from: string;
  out: string;
  tldrRoot: string;
  kbDir?: string;
  stage?: ComposeStageRecipe;
  threads?: number;
  python?: string;
  workDir?: string;
  onProgress?: (line: string) => void;
  onEvent?: (event: ReadingTrainEvent) => void;
}

/** The seedling's weights in the trainer's file layout (`weights.bin` + `weights.json`, float32, ggml order). */
async function writeInitWeights({ model, recipe, folder }: { model: string; recipe: ReadingRecipe; folder: string }): Promise<void> {
  const file = readGguf(model);
  const vocabSize = (JSON.parse(await readFile(join(folder, "vocab.json"), "utf8")) as string[]).length;
  const chunks: Buffer[] = [];
  const index: Array<{ name: string; shape: number[]; offset: number; bytes: number }> = [];
  let offset = 0;
  for (const { name, dims } of llamaTensorDims(recipe.shape, vocabSize)) {
    const values = readTensorF32(file, name);
    const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    chunks.push(bytes);
    index.push({ name, shape: [...dims].reverse(), offset, bytes: bytes.length });
    offset += bytes.length;
  }
  await writeFile(join(folder, "init-weights.bin"), Buffer.concat(chunks));
  await writeFile(join(folder, "init-weights.json"), JSON.stringify(index));
}

/** Runs the compose stage on `from` and writes the continued seedling (GGUF + report) to `out`. */
export async function continueReadingSeedling(options: ComposeStageOptions): Promise<ComposeStageReport> {
  const { from, out, tldrRoot, kbDir, stage = COMPOSE_STAGE_RECIPE, threads = 2, python = "/usr/bin/python3", onProgress = () => undefined, onEvent = () => undefined } = options;
  const started = performance.now();
  const base = readGguf(from);
  const fromSha256 = await sha256File(from);
  let recipe: ReadingRecipe;
  let fromKey: string;
  try {
    recipe = JSON.parse(ggufString(base, "council.seedling.recipe")) as ReadingRecipe;
    fromKey = ggufString(base, "council.seedling.key");
  } catch (cause) {
    throw new CouncilError("MODEL_INVALID", `${from} is not a reading seedling (no council.seedling recipe): build one with \`council seedling build --full\``, { cause });
  }
  const tokens = base.metadata.get("tokenizer.ggml.tokens");
  if (!Array.isArray(tokens)) throw new CouncilError("MODEL_INVALID", `${from} has no tokenizer.ggml.tokens`);
  const work = options.workDir ?? (await mkdtemp(join(tmpdir(), "council-compose-stage-")));
  await mkdir(work, { recursive: true });
  try {
    const corpus = await buildReadingCorpus({ tldrRoot, kbDir, seed: stage.seed, ...stage.corpus, onProgress });
    const corpusSeconds = (performance.now() - started) / 1000;
    const train = corpus.examples.filter((example) => example.split === "train");
    const val = corpus.examples.filter((example) => example.split === "validation");
    onProgress(`compose stage corpus: ${train.length} train + ${val.length} validation examples (${JSON.stringify(corpus.counts)}), sha256 ${corpus.sha256.slice(0, 12)}`);
    await copyFile(from, join(work, "init.gguf"));
    await writeFile(join(work, "vocab.json"), JSON.stringify(tokens));
    await writeInitWeights({ model: from, recipe, folder: work });
    const tokenized = await tokenizeReadingCorpus({ modelPath: from, folder: work, splits: { train, val }, maxLength: stage.train.maxLength, validationDecode: stage.train.valDecode, decodeKinds: ["read", "compose"] });
    onProgress(`tokens: train ${tokenized.train.tokens} in ${tokenized.train.examples} examples (${tokenized.train.dropped} dropped), validation ${tokenized.val.tokens}`);
    await writeTrainerConfig({ folder: work, seed: stage.seed, threads, shape: recipe.shape, train: stage.train, eos: tokenized.eos, initWeights: "init-weights.bin" });

    const trainStarted = performance.now();
    const log = await runTrainer({ python, folder: work, onEvent: progressEvents(onEvent, onProgress) });
    const seconds = { corpus: corpusSeconds, training: (performance.now() - trainStarted) / 1000, started };
    const key = `${READING_KEY_PREFIX}${createHash("sha256").update(fromKey).update(JSON.stringify(stage)).update(corpus.sha256).digest("hex").slice(0, 16)}`;
    const previousReport = from.replace(/\.gguf$/, ".json");
    return await finishReadingSeedling({
      work, out, recipe, key, corpus, tokenized, log, seconds,
      extraKv: [{ key: "council.seedling.stage", type: "string", value: JSON.stringify({ ...stage, fromSha256 }) }],
      extra: { stage, from: { sha256: fromSha256, key: fromKey, ...(existsSync(previousReport) ? { report: JSON.parse(await readFile(previousReport, "utf8")) as unknown } : {}) } },
    });
  } finally {
    if (options.workDir === undefined) await rm(work, { recursive: true, force: true });
  }
}
