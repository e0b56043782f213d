import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, PROJECT_ROOT, SEEDLING_PATH, type CouncilMetrics } from "../../core/index.js";
import { createCouncil, type Council } from "../../council/index.js";
import { FaissMemory } from "../../memory/index.js";
import { HashEmbeddings, LlamaChatModel } from "../../models/index.js";
import { loadKbDocuments } from "../../models/seedling/index.js";
import { FakeKnowledgeBase } from "../fakes/index.js";
import { createTinyModel } from "./tiny-model.js";

export interface RealCouncil {
  council: Council;
  memory: FaissMemory;
  /** "seedling" when models/seedling.gguf exists, else "tiny" (a random tiny llama GGUF). */
  model: "seedling" | "tiny";
}

/**
 * The real council for server integration tests: real GGUF inference (the seedling when built, else a
 * tiny random llama model written into `dir`), real FaissMemory under `dir/memory`, the project's kb/
 * passages. Disposing the council releases memory and model.
 */
export async function createRealCouncil({ dir, metrics, maxTokens = 32 }: { dir: string; metrics?: CouncilMetrics; maxTokens?: number }): Promise<RealCouncil> {
  const model = existsSync(SEEDLING_PATH) ? "seedling" : "tiny";
  const modelPath = model === "seedling" ? SEEDLING_PATH : existsSync(join(dir, "tiny-model.gguf")) ? join(dir, "tiny-model.gguf") : await createTinyModel({ dir });
  const chatModel = await LlamaChatModel.create({ modelPath, contextSize: 1024, parallel: 1, maxTokens, threads: 1 });
  const embeddings = new HashEmbeddings({ dimensions: 384 });
  const memory = await FaissMemory.create({ dir: join(dir, "memory"), embeddings, dimensions: 384, ...(metrics ? { metrics } : {}) });
  const documents = await loadKbDocuments(join(PROJECT_ROOT, "kb"));
  const knowledgeBase = new FakeKnowledgeBase(documents.flatMap((doc) => doc.sections.map((section, i) => ({ id: `${doc.file}#${i}`, source: doc.file, title: doc.title, text: section.text }))));
  const config = loadConfig({ env: {}, overrides: { dataDir: dir, logLevel: "silent", model: { parallel: 1, maxTokens } } });
  const council = await createCouncil({ config, chatModel, embeddings, memory, knowledgeBase, modelName: model, ...(metrics ? { metrics } : {}), owned: [memory, chatModel] });
  return { council, memory, model };
}
