import { Embeddings, type EmbeddingsParams } from "@langchain/core/embeddings";
import { OpenAIEmbeddings } from "@langchain/openai";
import { z } from "zod";
import { CouncilError, isCouncilError } from "../../core/index.js";

const optionsSchema = z.object({
  baseUrl: z.string().url(),
  apiKey: z.string().optional(),
  model: z.string().min(1),
  /** Expected vector length; a server answering with another length is an error (VECTOR_INVALID). */
  dimensions: z.number().int().positive().optional(),
  batchSize: z.number().int().positive().default(64),
  maxRetries: z.number().int().min(0).default(1),
  timeoutMs: z.number().int().positive().default(60_000),
});

export type OpenAICompatibleEmbeddingsOptions = z.input<typeof optionsSchema> & EmbeddingsParams;

/**
 * Embeddings from any OpenAI-compatible `/v1/embeddings` endpoint (vLLM, llama.cpp server, OpenAI) through
 * @langchain/openai's OpenAIEmbeddings. Failures become BACKEND_UNAVAILABLE; vectors of the wrong length or
 * with non-finite values VECTOR_INVALID.
 */
export class OpenAICompatibleEmbeddings extends Embeddings {
  readonly #client: OpenAIEmbeddings;
  readonly #baseUrl: string;
  readonly dimensions: number | undefined;

  constructor({ baseUrl, apiKey, model, dimensions, batchSize, maxRetries, timeoutMs, ...params }: OpenAICompatibleEmbeddingsOptions) {
    super(params);
    const parsed = optionsSchema.safeParse({ baseUrl, apiKey, model, dimensions, batchSize, maxRetries, timeoutMs });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new CouncilError("CONFIG_INVALID", `Invalid openai embeddings option "${issue.path.join(".")}": ${issue.message}`, { details: { key: issue.path.join(".") } });
    }
    const options = parsed.data;
    this.#baseUrl = options.baseUrl;
    this.dimensions = options.dimensions;
    this.#client = new OpenAIEmbeddings({
      model: options.model,
      apiKey: options.apiKey ?? "not-needed",
      batchSize: options.batchSize,
      maxRetries: options.maxRetries,
      timeout: options.timeoutMs,
      encodingFormat: "float",
      configuration: { baseURL: options.baseUrl },
    });
  }

  override async embedDocuments(documents: string[]): Promise<number[][]> {
    if (documents.length === 0) return [];
    const vectors = await this.#call(() => this.#client.embedDocuments(documents));
    if (vectors.length !== documents.length) {
      throw new CouncilError("BACKEND_UNAVAILABLE", `${this.#baseUrl} returned ${vectors.length} embeddings for ${documents.length} inputs.`);
    }
    return vectors.map((vector) => this.#check(vector));
  }

  override async embedQuery(document: string): Promise<number[]> {
    return this.#check(await this.#call(() => this.#client.embedQuery(document)));
  }

  async #call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (cause) {
      if (isCouncilError(cause)) throw cause;
      const status = (cause as { status?: unknown }).status;
      throw new CouncilError(
        "BACKEND_UNAVAILABLE",
        `Embeddings server ${this.#baseUrl} failed${typeof status === "number" ? ` (HTTP ${status})` : ""}: ${(cause as Error).message}. ` +
          "Check COUNCIL_OPENAI_BASE_URL and COUNCIL_EMBEDDING_MODEL.",
        { cause, ...(typeof status === "number" ? { details: { status } } : {}) },
      );
    }
  }

  #check(vector: number[]): number[] {
    if (this.dimensions !== undefined && vector.length !== this.dimensions) {
      throw new CouncilError("VECTOR_INVALID", `${this.#baseUrl} returned a ${vector.length}-dimensional embedding, expected ${this.dimensions}.`);
    }
    if (!vector.every(Number.isFinite)) throw new CouncilError("VECTOR_INVALID", `${this.#baseUrl} returned an embedding with non-finite values.`);
    return vector;
  }
}
