import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createInterface } from "node:readline";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CouncilError } from "../../core/index.js";
import { READING_KEY_PREFIX } from "../../models/seedling/index.js";
import { buildSpmVocab, learnBpe, llamaTensorDims, readGguf, sha256File, SeededRandom, writeGguf, writeLlamaModel, type GgufKv, type LlamaShape } from "../../models/index.js";
import { buildReadingCorpus, type ReadingCorpus, type ReadingExample } from "./reading-corpus.js";
import { tokenizeReadingCorpus, type TokenizedSplit } from "./tokenize-corpus.js";

/** Everything that decides the reading seedling's weights (with the tldr data and this code). */
export interface ReadingRecipe {
  version: 2;
  seed: number;
  vocabSize: number;
  shape: LlamaShape;
  corpus: { groupSize: number; questionsPerExample: number; validationFraction: number; composeFraction: number; maxPages?: number };
  train: {
    steps: number;
    batch: number;
    lr: number;
    lrMinRatio: number;
    warmup: number;
    weightDecay: number;
    clip: number;
    answerWeight: number;
    contextWeight: number;
    maxLength: number;
    /** Wall-clock budget: after 20 steps the step count is cut to fit it (the report records the steps run). */
    maxMinutes?: number;
    evalEvery: number;
    valExamples: number;
    valDecode: number;
    /** Validation items decoded to the end (the rest stop once they leave the right command). */
    fullDecode: number;
    decodeTokens: number;
  };
}

/** The recipe `council seedling build --full` runs (hours on 2 cores); the committed models/seedling.gguf was built with it. */
export const FULL_READING_RECIPE: ReadingRecipe = {
  version: 2,
  seed: 20_261_206,
  vocabSize: 2048,
  shape: { embedding: 192, layers: 4, heads: 6, feedForward: 576, contextLength: 2048 },
  corpus: { groupSize: 48, questionsPerExample: 2, validationFraction: 0.03, composeFraction: 0.2 },
  train: { steps: 20_000, batch: 12, lr: 2e-3, lrMinRatio: 0.05, warmup: 200, weightDecay: 0.1, clip: 1, answerWeight: 1, contextWeight: 0.1, maxLength: 384, maxMinutes: 85, evalEvery: 400, valExamples: 300, valDecode: 40, fullDecode: 10, decodeTokens: 40 },
};

/** A throwaway recipe for tests (seconds to minutes): same code path, tiny corpus and model. */
export const QUICK_READING_RECIPE: ReadingRecipe = {
  ...FULL_READING_RECIPE,
  vocabSize: 1024,
  shape: { embedding: 64, layers: 2, heads: 2, feedForward: 128, contextLength: 1024 },
  corpus: { ...FULL_READING_RECIPE.corpus, maxPages: 120, questionsPerExample: 1 },
  train: { ...FULL_READING_RECIPE.train, steps: 60, warmup: 10, maxMinutes: undefined, evalEvery: 60, valExamples: 40, valDecode: 5, fullDecode: 2, decodeTokens: 24 },
};

export interface ReadingTrainEvent {
  event: "start" | "step" | "eval" | "done";
  step?: number;
  loss?: number;
  val_loss?: number;
  exact?: number;
  stopped?: number;
  seconds?: number;
  [key: string]: unknown;
}

export interface ReadingSeedlingReport {
  name: "council-seedling";
  /** `reading-<16 hex>`: the recipe and corpus hash; `council seedling build` (quick recipe) never replaces such a file unless forced. */
  key: string;
  recipe: ReadingRecipe;
  parameters: number;
  corpus: { sha256: string; counts: Record<string, number>; pages: { train: number; validation: number }; tokens: { train: number; validation: number; dropped: number } };
  log: ReadingTrainEvent[];
  final: { valLoss: number; exact: number; stopped: number };
  seconds: { corpus: number; training: number; total: number };
  bytes: number;
  sha256: string;
  builtAt: string;
}

export interface BuildReadingSeedlingOptions {
  out: string;
  tldrRoot: string;
  kbDir?: string;
  recipe?: ReadingRecipe;
  threads?: number;
  /** Python with torch (Debian's python3-torch). @default "/usr/bin/python3" */
  python?: string;
  /** Keep the work folder (token files, weights) here instead of a temp dir. */
  workDir?: string;
  onProgress?: (line: string) => void;
  onEvent?: (event: ReadingTrainEvent) => void;
}

/** The trainer script lives in the source tree (training/seedling), whether this runs from dist/ or from source. */
function trainerScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = here.includes(`${join("dist", "council")}`) ? join(here, "..", "..", "..") : join(here, "..", "..");
  return join(root, "training", "seedling", "pretrain_reading.py");
}

/** The reading seedling's key: recipe + corpus hash, prefixed so the quick builder recognises the committed model. */
export function readingSeedlingKey(recipe: ReadingRecipe, corpusSha256: string): string {
  return `${READING_KEY_PREFIX}${createHash("sha256").update(JSON.stringify(recipe)).update(corpusSha256).digest("hex").slice(0, 16)}`;
}

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const random = new SeededRandom(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Builds the reading seedling: the reading corpus from allowed tldr pages, a BPE vocabulary learned on it, token
 * files made by llama.cpp's own tokenizer, PyTorch pre-training (`training/seedling/pretrain_reading.py`) of a
 * llama-architecture model computed as llama.cpp computes it, then the GGUF (tokenizer + trained tensors +
 * `council.seedling.*` provenance) and its JSON report with the loss curve.
 */
export async function buildReadingSeedling(options: BuildReadingSeedlingOptions): Promise<ReadingSeedlingReport> {
  const { out, tldrRoot, kbDir, recipe = FULL_READING_RECIPE, threads = 2, python = "/usr/bin/python3", onProgress = () => undefined, onEvent = () => undefined } = options;
  const started = performance.now();
  const work = options.workDir ?? (await mkdtemp(join(tmpdir(), "council-reading-seedling-")));
  await mkdir(work, { recursive: true });
  try {
    const corpus = await buildReadingCorpus({ tldrRoot, kbDir, seed: recipe.seed, ...recipe.corpus, onProgress });
    const corpusSeconds = (performance.now() - started) / 1000;
    const train = shuffled(corpus.examples.filter((example) => example.split === "train"), recipe.seed);
    const val = shuffled(corpus.examples.filter((example) => example.split === "validation"), recipe.seed + 1);
    onProgress(`reading corpus: ${train.length} train + ${val.length} validation examples (${JSON.stringify(corpus.counts)}), sha256 ${corpus.sha256.slice(0, 12)}`);

    const bpeText = train.slice(0, 6000).map((example: ReadingExample) => example.prompt + example.completion).join("\n\n");
    const bpe = learnBpe({ text: bpeText, pieces: recipe.vocabSize - 259 });
    const vocab = buildSpmVocab(bpe.pieces);
    const initPath = join(work, "init.gguf");
    await writeLlamaModel({ path: initPath, name: "council-seedling", shape: recipe.shape, vocab, seed: recipe.seed });
    await writeFile(join(work, "vocab.json"), JSON.stringify(vocab.tokens));
    onProgress(`tokenizer: ${vocab.tokens.length} tokens (${bpe.merges} merges)`);

    const tokenized = await tokenizeReadingCorpus({ modelPath: initPath, folder: work, splits: { train, val }, maxLength: recipe.train.maxLength, validationDecode: recipe.train.valDecode });
    onProgress(`tokens: train ${tokenized.train.tokens} in ${tokenized.train.examples} examples (${tokenized.train.dropped} dropped), validation ${tokenized.val.tokens}`);
    await writeTrainerConfig({ folder: work, seed: recipe.seed, threads, shape: recipe.shape, train: recipe.train, eos: tokenized.eos });

    const trainStarted = performance.now();
    const log = await runTrainer({ python, folder: work, onEvent: progressEvents(onEvent, onProgress) });
    const seconds = { corpus: corpusSeconds, training: (performance.now() - trainStarted) / 1000, started };
    return await finishReadingSeedling({ work, out, recipe, key: readingSeedlingKey(recipe, corpus.sha256), corpus, tokenized, log, seconds });
  } finally {
    if (options.workDir === undefined) await rm(work, { recursive: true, force: true });
  }
}

/**
 * The end of a pre-training stage: the GGUF from the work folder, and its report (recipe, corpus, loss curve,
 * sha256) written beside it as JSON; `extra` adds fields to the report, `extraKv` to the GGUF.
 */
export async function finishReadingSeedling<Extra extends object = object>({ work, out, recipe, key, corpus, tokenized, log, seconds, extraKv = [], extra }: {
  work: string;
  out: string;
  recipe: ReadingRecipe;
  key: string;
  corpus: ReadingCorpus;
  tokenized: Record<"train" | "val", TokenizedSplit>;
  log: ReadingTrainEvent[];
  seconds: { corpus: number; training: number; started: number };
  extraKv?: GgufKv[];
  extra?: Extra;
}): Promise<ReadingSeedlingReport & Extra> {
  const lastEval = [...log].reverse().find((event) => event.event === "eval");
  const written = await writeReadingGguf({ workDir: work, out, recipe, key, corpusSha256: corpus.sha256, lastEval, extraKv });
  const report = {
    name: "council-seedling" as const,
    key,
    recipe,
    ...(extra as Extra),
    parameters: Number(log.find((event) => event.event === "start")?.parameters ?? 0),
    corpus: {
      sha256: corpus.sha256,
      counts: corpus.counts,
      pages: { train: corpus.pages.train.length, validation: corpus.pages.validation.length },
      tokens: { train: tokenized.train.tokens, validation: tokenized.val.tokens, dropped: tokenized.train.dropped + tokenized.val.dropped },
    },
    log,
    final: { valLoss: lastEval?.val_loss ?? Number.NaN, exact: lastEval?.exact ?? 0, stopped: lastEval?.stopped ?? 0 },
    seconds: { corpus: seconds.corpus, training: seconds.training, total: (performance.now() - seconds.started) / 1000 },
    bytes: written.bytes,
    sha256: await sha256File(out),
    builtAt: new Date().toISOString(),
  };
  await writeFile(out.replace(/\.gguf$/, ".json"), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

/**
 * Writes the GGUF from a work folder: the init model's tokenizer and metadata + the trainer's latest exported
 * tensors (`weights.bin`, written at every evaluation, so a stopped run can be assembled too) + provenance.
 */
export async function writeReadingGguf({ workDir, out, recipe, key, corpusSha256, lastEval, extraKv = [] }: { workDir: string; out: string; recipe: ReadingRecipe; key: string; corpusSha256: string; lastEval?: ReadingTrainEvent; extraKv?: GgufKv[] }): Promise<{ bytes: number }> {
  const init = readGguf(join(workDir, "init.gguf"));
  const vocabSize = (JSON.parse(await readFile(join(workDir, "vocab.json"), "utf8")) as string[]).length;
  const index = JSON.parse(await readFile(join(workDir, "weights.json"), "utf8")) as Array<{ name: string; shape: number[]; offset: number; bytes: number }>;
  const weights = await readFile(join(workDir, "weights.bin"));
  const byName = new Map(index.map((entry) => [entry.name, entry]));
  const tensors = llamaTensorDims(recipe.shape, vocabSize).map(({ name, dims }) => {
    const entry = byName.get(name);
    const size = dims.reduce((product, dim) => product * dim, 1);
    if (entry === undefined || entry.bytes !== size * 4) throw new CouncilError("TRAINING_FAILED", `trainer output lacks ${name} (${dims.join("×")})`);
    return { name, dims, data: () => new Float32Array(weights.buffer.slice(weights.byteOffset + entry.offset, weights.byteOffset + entry.offset + entry.bytes)) };
  });
  const provenance: GgufKv[] = [
    { key: "council.seedling.key", type: "string", value: key },
    { key: "council.seedling.recipe", type: "string", value: JSON.stringify(recipe) },
    { key: "council.seedling.corpus_sha256", type: "string", value: corpusSha256 },
    ...(lastEval?.val_loss === undefined ? [] : [{ key: "council.seedling.val_loss", type: "f32", value: lastEval.val_loss } as const]),
    ...(lastEval?.exact === undefined ? [] : [{ key: "council.seedling.exact", type: "f32", value: lastEval.exact } as const]),
    ...extraKv,
  ];
  await mkdir(dirname(out), { recursive: true });
  return await writeGguf({ path: out, kv: [...init.kv.filter((kv) => !kv.key.startsWith("council.")), ...provenance], tensors });
}

/** The trainer's config.json (training/seedling/pretrain_reading.py); `initWeights` names a file in the folder to start from. */
export async function writeTrainerConfig({ folder, seed, threads, shape, train: t, eos, initWeights }: { folder: string; seed: number; threads: number; shape: LlamaShape; train: ReadingRecipe["train"]; eos: number; initWeights?: string }): Promise<void> {
  await writeFile(
    join(folder, "config.json"),
    JSON.stringify({
      seed, threads, shape, steps: t.steps, batch: t.batch, lr: t.lr, lr_min_ratio: t.lrMinRatio, warmup: t.warmup, weight_decay: t.weightDecay,
      clip: t.clip, answer_weight: t.answerWeight, context_weight: t.contextWeight, max_len: t.maxLength, eval_every: t.evalEvery, log_every: 50,
      val_examples: t.valExamples, val_decode: t.valDecode, full_decode: t.fullDecode, decode_tokens: t.decodeTokens, eos, max_minutes: t.maxMinutes ?? null,
      ...(initWeights === undefined ? {} : { init_weights: initWeights }),
    }),
  );
}

/** Trainer events to the caller, and a progress line at every evaluation and every 500 steps. */
export function progressEvents(onEvent: (event: ReadingTrainEvent) => void, onProgress: (line: string) => void): (event: ReadingTrainEvent) => void {
  return (event) => {
    onEvent(event);
    if (event.event === "eval") {
      const kinds = Object.entries((event.exact_by_kind ?? {}) as Record<string, number>).map(([kind, share]) => `${kind} ${(share * 100).toFixed(0)} %`).join(", ");
      onProgress(`step ${event.step}: val loss ${event.val_loss?.toFixed(3)}, exact ${((event.exact ?? 0) * 100).toFixed(0)} %${kinds ? ` (${kinds})` : ""}, stopped ${((event.stopped ?? 0) * 100).toFixed(0)} % (${event.seconds} s)`);
    } else if (event.event === "step" && (event.step ?? 0) % 500 === 0) onProgress(`step ${event.step}: loss ${event.loss} (${event.seconds} s)`);
  };
}

export async function runTrainer({ python, folder, onEvent }: { python: string; folder: string; onEvent: (event: ReadingTrainEvent) => void }): Promise<ReadingTrainEvent[]> {
  const child = spawn(python, [trainerScript(), folder], { stdio: ["ignore", "pipe", "pipe"] });
  const log: ReadingTrainEvent[] = [];
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const lines = createInterface({ input: child.stdout });
  lines.on("line", (line) => {
    if (!line.startsWith("{")) return;
    const event = JSON.parse(line) as ReadingTrainEvent;
    log.push(event);
    onEvent(event);
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", (error) => reject(new CouncilError("TRAINING_FAILED", `cannot start ${python}: ${error.message} (install Debian's python3-torch)`)));
    child.on("close", resolve);
  });
  if (code !== 0) throw new CouncilError("TRAINING_FAILED", `reading pre-training exited with ${code}: ${stderr.slice(-1500)}`);
  return log;
}
