import { createMetrics, silentLogger, type CouncilConfig, type CouncilMetrics } from "../../core/index.js";
import { createImprovementPorts, openCouncilParts } from "../../council/index.js";
import { AdapterRegistry } from "../../deploy/index.js";
import { loadGraphSpec } from "../../graphs/index.js";
import type { ImprovePorts } from "../../graphs/improve/index.js";
import type { MemoryStore } from "../../memory/index.js";
import { createTrainer } from "../../training/index.js";

export interface RealNight {
  metrics: CouncilMetrics;
  memory: MemoryStore;
  registry: AdapterRegistry;
  /** The nightly loop's real ports (served model, critic, native trainer, gate on adapter slots, registry, canary). */
  ports: ImprovePorts;
  dispose(): Promise<void>;
}

/** What `council nightly` opens for `config`, on real components, for tests that replace only some ports. */
export async function openRealNight(config: CouncilConfig): Promise<RealNight> {
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
  const registry = await AdapterRegistry.create({ config, logger: silentLogger });
  const ports = await createImprovementPorts({
    config, chatModel: parts.chatModel, adapterHost, embeddings: parts.embeddings, memory: parts.memory, knowledgeBase: parts.knowledgeBase,
    registry, trainer: await createTrainer({ config }), spec: loadGraphSpec(undefined), metrics, logger: silentLogger,
  });
  return { metrics, memory: parts.memory, registry, ports, dispose };
}
