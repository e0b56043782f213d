import { createMetrics, silentLogger, type CouncilConfig, type CouncilMetrics } from "../../core/index.js";
import { createCouncil, createImprovementPorts, createProbeAnswerer, openCouncilParts, startAdapterServing, type AdapterServing, type Council } from "../../council/index.js";
import { AdapterRegistry } from "../../deploy/index.js";
import { loadGraphSpec } from "../../graphs/index.js";
import type { ImprovePorts } from "../../graphs/improve/index.js";
import type { MemoryStore } from "../../memory/index.js";
import { createTrainer } from "../../training/index.js";

/** What `council serve` runs beside the night: adapter serving (stable/canary slots that follow loras/) and the chat council on it. */
export interface RealServing {
  serving: AdapterServing;
  council: Council;
  /** The answerer's prompt on one adapter slot of the served model ("stable", "canary"), as the gate's probes answer. */
  answerOnSlot(question: string, slot: string | null): Promise<string>;
}

export interface RealNight {
  metrics: CouncilMetrics;
  memory: MemoryStore;
  registry: AdapterRegistry;
  /** The nightly loop's real ports (served model, critic, native trainer, gate on adapter slots, registry, canary). */
  ports: ImprovePorts;
  /** Set when opened with `serve`: the canary port drives these slots, the council's turns are its live traffic. */
  served: RealServing | null;
  dispose(): Promise<void>;
}

/**
 * What `council nightly` opens for `config`, on real components, for tests that replace only some ports. With
 * `serve`, also what `council serve` runs in the same process (as createCouncilRuntime wires them): adapter serving
 * on the same model, the council answering through it, and the canary's state applied to it.
 */
export async function openRealNight(config: CouncilConfig, { serve = false }: { serve?: boolean } = {}): Promise<RealNight> {
  const metrics = createMetrics();
  const parts = await openCouncilParts({ config, logger: silentLogger, metrics });
  const dispose = async () => {
    for (const resource of parts.owned) await resource.dispose();
  };
  const adapterHost = parts.adapterHost;
  if (adapterHost === null) {
    await dispose();
    throw new Error("the llama backend's in-process serving target must host adapters");
  }
  const spec = loadGraphSpec(undefined);
  const registry = await AdapterRegistry.create({ config, logger: silentLogger });
  let served: RealServing | null = null;
  if (serve) {
    const probe = createProbeAnswerer({ chatModel: parts.chatModel, knowledgeBase: parts.knowledgeBase, spec, config });
    const answerOnSlot = async (question: string, slot: string | null) => (await probe.answer(question, slot)).answer;
    const serving = await startAdapterServing({ registry, host: adapterHost, generate: answerOnSlot, metrics, logger: silentLogger, base: parts.modelName });
    parts.owned.unshift(serving);
    const council = await createCouncil({
      config, chatModel: parts.chatModel, embeddings: parts.embeddings, memory: parts.memory, knowledgeBase: parts.knowledgeBase, verified: parts.verified,
      metrics, logger: silentLogger, spec, modelName: parts.modelName, selectAdapter: serving.selectAdapter,
    });
    served = { serving, council, answerOnSlot };
  }
  const serving = served?.serving;
  const ports = await createImprovementPorts({
    config, chatModel: parts.chatModel, adapterHost, embeddings: parts.embeddings, memory: parts.memory, knowledgeBase: parts.knowledgeBase,
    registry, trainer: await createTrainer({ config }), spec, metrics, logger: silentLogger,
    ...(serving ? { onCanaryState: (state) => void serving.applyCanary(state) } : {}),
  });
  return { metrics, memory: parts.memory, registry, ports, served, dispose };
}
