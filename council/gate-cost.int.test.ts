import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { createMetrics, loadConfig, SEEDLING_PATH, silentLogger } from "../core/index.js";
import { AdapterRegistry } from "../deploy/index.js";
import { loadGraphSpec } from "../graphs/index.js";
import { createTrainer } from "../training/index.js";
import { createImprovementPorts } from "./improvement-ports.js";
import { openCouncilParts } from "./open-parts.js";

/**
 * The gate's cost per answer on the real model: the answer port (the one the nightly gate uses) reports the tokens
 * llama.cpp generated and the process CPU seconds the answer took (process.cpuUsage, which counts llama.cpp's
 * native threads too). Measured on the loaded 2-core machine: 9 tokens, 0.369 CPU-s in 758 ms wall.
 */
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

it.runIf(existsSync(SEEDLING_PATH))("the gate's answer port measures tokens and CPU seconds per answer on the seedling", async () => {
  const root = await mkdtemp(join(tmpdir(), "council-gate-cost-"));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  const threads = 1;
  const answerWith = async (maxTokens: number) => {
    const config = loadConfig({ env: {}, overrides: { dataDir: root, logLevel: "silent", model: { threads, parallel: 1, maxTokens }, agents: { router: "heuristic", critic: "heuristic", agent0: "heuristic", maxRevisions: 0 }, improve: { enabled: false } } });
    const metrics = createMetrics({ defaultMetrics: false });
    const parts = await openCouncilParts({ config, logger: silentLogger, metrics });
    try {
      const ports = await createImprovementPorts({
        config,
        chatModel: parts.chatModel,
        adapterHost: parts.adapterHost!,
        embeddings: parts.embeddings,
        memory: parts.memory,
        knowledgeBase: parts.knowledgeBase,
        registry: await AdapterRegistry.create({ config, logger: silentLogger }),
        trainer: await createTrainer({ config }),
        spec: loadGraphSpec(undefined),
        metrics,
        logger: silentLogger,
      });
      return await ports.answer.answer({ question: "How do I list all files in a directory, including hidden ones?", adapterPath: null });
    } finally {
      for (const resource of parts.owned) await resource.dispose();
    }
  };
  const cost = await answerWith(16);
  console.log(`gate cost on the seedling: ${cost.tokens} tokens, ${cost.cpuSeconds?.toFixed(3)} CPU-s, ${cost.latencyMs.toFixed(0)} ms`);
  expect(cost.tokens).toBeGreaterThan(0);
  expect(cost.tokens).toBeLessThanOrEqual(16);
  expect(cost.cpuSeconds).toBeGreaterThan(0);
  // process CPU over the answer: never more than every thread busy for the whole wall time (+ the JS thread and libuv)
  expect(cost.cpuSeconds!).toBeLessThanOrEqual((cost.latencyMs / 1000) * (threads + 2) + 0.05);
}, 300_000);
