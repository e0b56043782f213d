import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { silentLogger, type CouncilConfig, type CouncilMetrics, type Logger } from "../core/index.js";
import { openRunRecords } from "../cron/index.js";
import { AdapterRegistry } from "../deploy/index.js";
import { loadGraphSpec } from "../graphs/index.js";
import type { ImprovePorts } from "../graphs/improve/index.js";
import { ManualPages, type EventSink, type VerifiedMemory } from "../memory/index.js";
import type { CouncilChatModel } from "../models/index.js";
import { createTrainer } from "../training/index.js";
import { startAdapterServing, type AdapterServing } from "./adapter-serving.js";
import { openReleaseStore } from "./open-release-store.js";
import { createCouncil, type Council } from "./create-council.js";
import { openCouncilParts } from "./open-parts.js";
import { createImprovementPorts, createProbeAnswerer } from "./improvement-ports.js";
import { openCheckpointer } from "./checkpointer.js";
import { Improvement } from "./improvement.js";

export interface CouncilRuntimeBundle {
  council: Council;
  /** Null when the backend cannot hold LoRA slots: chat works, the nightly loop cannot evaluate or serve adapters. */
  improvement: Improvement | null;
  /** Null when the backend cannot hold LoRA slots (then every turn runs on the base model). */
  serving: AdapterServing | null;
  chatModel: CouncilChatModel;
  embeddings: EmbeddingsInterface;
}

/** The nightly loop's ports with verified memory (the night releases accepted answers into it) and the event log attached. */
function withVerified(verified: VerifiedMemory, events: EventSink | null, ports: ImprovePorts): ImprovePorts {
  return Object.assign(ports, { verified }, events ? { events } : {});
}

/**
 * Builds everything one Council process runs from config: chat model, embeddings, FAISS memory, the
 * knowledge base, the adapter registry and serving (stable/canary slots that follow loras/), the chat
 * council, and the nightly improvement service. `council.dispose()` releases it all.
 */
export async function createCouncilRuntime({ config, logger = silentLogger, metrics }: { config: CouncilConfig; logger?: Logger; metrics: CouncilMetrics }): Promise<CouncilRuntimeBundle> {
  const { chatModel, adapterHost, servingTarget, embeddings, memory, knowledgeBase: kb, verified, events, modelName, owned } = await openCouncilParts({ config, logger, metrics });
  try {
    const spec = loadGraphSpec(config.agents.graphSpec);
    const registry = await AdapterRegistry.create({ config, logger });
    const releases = await openReleaseStore({ config, registry, logger });
    owned.push(releases);
    const base = modelName;

    let serving: AdapterServing | null = null;
    if (adapterHost !== null) {
      const probe = createProbeAnswerer({ chatModel, knowledgeBase: kb, spec, config });
      serving = await startAdapterServing({ registry, releases, host: adapterHost, generate: async (prompt, slot) => (await probe.answer(prompt, slot)).answer, metrics, logger, base });
      owned.unshift(serving);
    }
    const council = await createCouncil({
      config,
      chatModel,
      embeddings,
      memory,
      knowledgeBase: kb,
      verified,
      manual: new ManualPages(),
      metrics,
      logger,
      spec,
      owned,
      modelName,
      ...(serving ? { selectAdapter: serving.selectAdapter } : {}),
    });
    // The nightly graph's checkpoints: SQLite in the data dir, or Postgres with COUNCIL_STORE=postgres.
    const checkpoints = adapterHost !== null ? await openCheckpointer({ config }) : null;
    if (checkpoints) owned.push(checkpoints);
    // The nights' records: the run folders, or Postgres with COUNCIL_STORE=postgres (every replica lists every night).
    const runRecords = adapterHost !== null ? openRunRecords({ config, logger }) : null;
    if (runRecords) owned.push(runRecords);
    const improvement = adapterHost !== null
      ? new Improvement({
          config,
          metrics,
          logger,
          ...(checkpoints ? { checkpointer: checkpoints.saver } : {}),
          ...(runRecords ? { runRecords } : {}),
          ports: withVerified(verified, events, await createImprovementPorts({
            config,
            chatModel,
            adapterHost,
            embeddings,
            memory,
            knowledgeBase: kb,
            registry,
            releases,
            trainer: await createTrainer({ config }),
            spec,
            metrics,
            logger,
            ...(serving ? { onCanaryState: (state) => void serving.applyCanary(state) } : {}),
          })),
        })
      : null;
    if (improvement === null) logger.warn({ backend: config.model.backend, servingTarget: servingTarget.name }, "this serving target takes no LoRA adapters from Council: the nightly loop is off");
    await improvement?.publishLastRun();
    return { council, improvement, serving, chatModel, embeddings };
  } catch (error) {
    for (const resource of owned) await resource.dispose();
    throw error;
  }
}
