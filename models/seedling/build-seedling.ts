import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { CouncilError } from "../../core/index.js";
import { readGguf, readTensorF32, sha256File, writeGguf, type GgufKv, type GgufTensorInput } from "../gguf/index.js";
import { buildSpmVocab, learnBpe } from "../tokenizer/index.js";
import { loadKbDocuments } from "./kb-corpus.js";
import { llamaParameterCount, writeLlamaModel } from "./llama-model.js";
import { runFinetune, type EpochLoss } from "./llama-finetune.js";
import { recipeKey, resolveRecipe, seedlingCodeHash, type SeedlingRecipe } from "./seedling-recipe.js";
import { buildTrainingText } from "./training-text.js";

export interface BuildSeedlingOptions {
  /** Output GGUF; `<out without .gguf>.json` is written beside it. */
  out: string;
  /** Folder of knowledge-base markdown. */
  corpusDir: string;
  /** Overrides of {@link DEFAULT_SEEDLING_RECIPE}. */
  recipe?: Partial<SeedlingRecipe>;
  /** Trainer threads. @default 2 */
  threads?: number;
  /** llama-finetune binary. @default NATIVE_BUILD_DIR/bin/llama-finetune */
  binary?: string;
  /** Progress lines for the CLI. */
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
}

export interface SeedlingReport {
  name: string;
  key: string;
  recipe: SeedlingRecipe;
  parameters: number;
  vocabSize: number;
  tokenizer: { characters: number; merges: number };
  corpus: { sha256: string; documents: number; trainChars: number; validationChars: number; counts: Record<string, number> };
  validationLoss: { before: number; after: number };
  epochs: EpochLoss[];
  seconds: { total: number; training: number };
  bytes: number;
  sha256: string;
  builtAt: string;
}

export function seedlingReportPath(modelPath: string): string {
  return join(dirname(modelPath), `${basename(modelPath).replace(/\.gguf$/, "")}.json`);
}

/** Loads the KB, derives the training text and returns its hash plus the recipe key (no training). */
export async function seedlingKey({ corpusDir, recipe: overrides = {} }: { corpusDir: string; recipe?: Partial<SeedlingRecipe> }): Promise<{ key: string; recipe: SeedlingRecipe; corpusSha256: string }> {
  const recipe = resolveRecipe(overrides);
  const documents = await loadKbDocuments(corpusDir);
  const text = buildTrainingText({ documents, systemPrompt: recipe.systemPrompt, seed: recipe.seed, validationFraction: recipe.validationFraction });
  return { key: recipeKey({ recipe, corpusSha256: text.sha256 }), recipe, corpusSha256: text.sha256 };
}

/**
 * Builds the seedling: learns a BPE vocabulary on the training text, initialises a llama model with the
 * recipe's seed, measures validation loss, pre-trains with llama.cpp's llama-finetune, measures again,
 * and writes the GGUF (init metadata + trained tensors + council.seedling.* provenance) and its JSON report.
 */
export async function buildSeedling({ out, corpusDir, recipe: overrides = {}, threads = 2, binary, onProgress = () => undefined, signal }: BuildSeedlingOptions): Promise<SeedlingReport> {
  const started = performance.now();
  const recipe = resolveRecipe(overrides);
  const documents = await loadKbDocuments(corpusDir);
  const text = buildTrainingText({ documents, systemPrompt: recipe.systemPrompt, seed: recipe.seed, validationFraction: recipe.validationFraction });
  const key = recipeKey({ recipe, corpusSha256: text.sha256, codeHash: seedlingCodeHash() });
  onProgress(`corpus: ${documents.length} documents, ${text.counts.chatExamples} Q/A examples, ${text.train.length} train + ${text.validation.length} validation chars`);

  const bpe = learnBpe({ text: text.train, pieces: recipe.vocabPieces });
  const vocab = buildSpmVocab(bpe.pieces);
  const parameters = llamaParameterCount(recipe.shape, vocab.tokens.length);
  onProgress(`tokenizer: ${vocab.tokens.length} tokens (${bpe.characters} characters, ${bpe.merges} merges); model: ${(parameters / 1e6).toFixed(2)} M parameters`);

  const work = await mkdtemp(join(tmpdir(), "council-seedling-"));
  try {
    const trainFile = join(work, "train.txt");
    const validationFile = join(work, "validation.txt");
    await writeFile(trainFile, text.train + text.validation);
    await writeFile(validationFile, text.validation);
    const initPath = join(work, "init.gguf");
    await writeLlamaModel({ path: initPath, name: "council-seedling", shape: recipe.shape, vocab, seed: recipe.seed, embeddingStd: recipe.embeddingStd });

    const evaluate = async (model: string): Promise<number> => {
      const run = await runFinetune({ model, textFile: validationFile, out: join(work, "eval-out.gguf"), contextSize: recipe.trainContext, epochs: 1, learningRate: 0, validationSplit: 1, threads, binary, signal });
      const loss = run.epochs[0]?.validationLoss;
      if (loss === undefined || !Number.isFinite(loss)) throw new CouncilError("TRAINING_FAILED", `validation pass printed no loss: ${run.output.slice(-400)}`);
      return loss;
    };
    const before = await evaluate(initPath);
    onProgress(`validation loss before training: ${before.toFixed(3)}`);

    const trainedPath = join(work, "trained.gguf");
    const validationSplit = text.validation.length / (text.train.length + text.validation.length);
    const training = await runFinetune({
      model: initPath,
      textFile: trainFile,
      out: trainedPath,
      contextSize: recipe.trainContext,
      epochs: recipe.epochs,
      learningRate: recipe.learningRate,
      learningRateMin: recipe.learningRateMin,
      decayEpochs: recipe.decayEpochs,
      validationSplit,
      threads,
      binary,
      signal,
      onEpoch: (epoch) => onProgress(`epoch ${epoch.epoch}/${recipe.epochs}: train loss ${epoch.trainLoss?.toFixed(3)}, validation loss ${epoch.validationLoss?.toFixed(3)}`),
    });
    const after = await evaluate(trainedPath);
    onProgress(`validation loss after training: ${after.toFixed(3)} (${training.seconds.toFixed(0)} s training)`);
    if (!Number.isFinite(after) || after >= before) throw new CouncilError("TRAINING_FAILED", `pre-training did not lower validation loss (${before.toFixed(3)} → ${after.toFixed(3)}); check the recipe's learning rate`);

    // Final file: the init model's metadata (tokenizer, full context length) + the trained tensors + provenance.
    const init = readGguf(initPath);
    const trained = readGguf(trainedPath);
    const trainedNames = new Set(trained.tensors.map((tensor) => tensor.name));
    const tensors: GgufTensorInput[] = init.tensors.map((tensor) => {
      if (!trainedNames.has(tensor.name)) throw new CouncilError("TRAINING_FAILED", `trained model lacks tensor ${tensor.name}`);
      return { name: tensor.name, dims: tensor.dims, data: () => readTensorF32(trained, tensor.name) };
    });
    const provenance: GgufKv[] = [
      { key: "council.seedling.key", type: "string", value: key },
      { key: "council.seedling.recipe", type: "string", value: JSON.stringify(recipe) },
      { key: "council.seedling.corpus_sha256", type: "string", value: text.sha256 },
      { key: "council.seedling.val_loss_before", type: "f32", value: before },
      { key: "council.seedling.val_loss_after", type: "f32", value: after },
    ];
    await mkdir(dirname(out), { recursive: true });
    const written = await writeGguf({ path: out, kv: [...init.kv, ...provenance], tensors });
    const report: SeedlingReport = {
      name: "council-seedling",
      key,
      recipe,
      parameters,
      vocabSize: vocab.tokens.length,
      tokenizer: { characters: bpe.characters, merges: bpe.merges },
      corpus: { sha256: text.sha256, documents: documents.length, trainChars: text.train.length, validationChars: text.validation.length, counts: text.counts },
      validationLoss: { before, after },
      epochs: training.epochs,
      seconds: { total: (performance.now() - started) / 1000, training: training.seconds },
      bytes: written.bytes,
      sha256: await sha256File(out),
      builtAt: new Date().toISOString(),
    };
    await writeJsonAtomic(seedlingReportPath(out), report);
    return report;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temp, path);
}
