import { Embeddings, type EmbeddingsParams } from "@langchain/core/embeddings";
import { getLlama, LlamaLogLevel, type Llama, type LlamaEmbeddingContext, type LlamaModel } from "node-llama-cpp";
import { CouncilError, isCouncilError } from "../../core/index.js";
import { resolveModelSource } from "../llama-model-source.js";

export interface LlamaEmbeddingsOptions extends EmbeddingsParams {
  /** A GGUF path or an `hf:` URI already present in `modelsDir`. */
  modelPath: string;
  /** Local folder of `hf:` models. @default <cwd>/models/hf */
  modelsDir?: string;
  /** CPU threads. @default all cores */
  threads?: number;
  /** Longest input in tokens; longer inputs are cut to fit. @default 512 */
  contextSize?: number;
  /** Share the llama.cpp binding with a LlamaChatModel. @default a CPU-only instance */
  llama?: Llama;
}

/**
 * GGUF embeddings through node-llama-cpp (mean-pooled by llama.cpp as the model declares), L2-normalised so an
 * inner-product index measures cosine similarity. One embedding context; calls are serialised.
 */
export class LlamaEmbeddings extends Embeddings {
  readonly #model: LlamaModel;
  readonly #context: LlamaEmbeddingContext;
  readonly #llama: Llama;
  readonly #ownsLlama: boolean;
  readonly #contextSize: number;
  /** Vector length (the model's embedding width). */
  readonly dimensions: number;
  #queue: Promise<unknown> = Promise.resolve();
  #disposed = false;

  private constructor(parts: { model: LlamaModel; context: LlamaEmbeddingContext; llama: Llama; ownsLlama: boolean; contextSize: number }, params: EmbeddingsParams) {
    super(params);
    this.#model = parts.model;
    this.#context = parts.context;
    this.#llama = parts.llama;
    this.#ownsLlama = parts.ownsLlama;
    this.#contextSize = parts.contextSize;
    this.dimensions = parts.model.embeddingVectorSize;
  }

  /** Errors: MODEL_NOT_FOUND, MODEL_INVALID, MODEL_DOWNLOAD_OFFLINE, NATIVE_MISSING. */
  static async create({ modelPath, modelsDir, threads, contextSize = 512, llama, ...params }: LlamaEmbeddingsOptions): Promise<LlamaEmbeddings> {
    const path = await resolveModelSource({ source: modelPath, ...(modelsDir === undefined ? {} : { modelsDir }) });
    const ownsLlama = llama === undefined;
    let binding: Llama;
    try {
      binding = llama ?? (await getLlama({ gpu: false, build: "never", progressLogs: false, logLevel: LlamaLogLevel.error }));
    } catch (cause) {
      throw new CouncilError("NATIVE_MISSING", `node-llama-cpp's prebuilt CPU binary did not load: ${(cause as Error).message}. Run npm run setup.`, { cause });
    }
    let model: LlamaModel | undefined;
    try {
      model = await binding.loadModel({ modelPath: path });
      const size = Math.min(contextSize, model.trainContextSize);
      const context = await model.createEmbeddingContext({ contextSize: size, ...(threads === undefined ? {} : { threads }) });
      return new LlamaEmbeddings({ model, context, llama: binding, ownsLlama, contextSize: size }, params);
    } catch (cause) {
      await model?.dispose();
      if (ownsLlama) await binding.dispose();
      throw new CouncilError("MODEL_INVALID", `llama.cpp could not load ${path} for embeddings: ${(cause as Error).message}`, { cause, details: { path } });
    }
  }

  override async embedDocuments(documents: string[]): Promise<number[][]> {
    const vectors: number[][] = [];
    for (const document of documents) vectors.push(await this.embedQuery(document));
    return vectors;
  }

  override async embedQuery(document: string): Promise<number[]> {
    const run = this.#queue.then(() => this.#embed(document));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#queue;
    await this.#context.dispose();
    await this.#model.dispose();
    if (this.#ownsLlama) await this.#llama.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  async #embed(text: string): Promise<number[]> {
    if (this.#disposed) throw new CouncilError("BACKEND_UNAVAILABLE", "These llama embeddings were disposed.");
    // Leave room for BOS/EOS; an over-long text is cut rather than failing the whole batch.
    const tokens = this.#model.tokenize(text).slice(0, this.#contextSize - 2);
    if (tokens.length === 0) return new Array<number>(this.dimensions).fill(0);
    try {
      const { vector } = await this.#context.getEmbeddingFor(tokens);
      return normalise(vector);
    } catch (cause) {
      if (isCouncilError(cause)) throw cause;
      throw new CouncilError("BACKEND_UNAVAILABLE", `llama.cpp embedding failed: ${(cause as Error).message}`, { cause });
    }
  }
}

function normalise(vector: readonly number[]): number[] {
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm);
  if (!Number.isFinite(norm)) throw new CouncilError("VECTOR_INVALID", "llama.cpp returned a non-finite embedding.");
  return norm === 0 ? [...vector] : vector.map((value) => value / norm);
}
