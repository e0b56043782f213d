import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HumanMessage } from "@langchain/core/messages";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetrics, SEEDLING_PATH } from "../core/index.js";
import { writeLoraAdapter } from "../models/gguf/index.js";
import { LlamaChatModel } from "../models/llama-chat-model.js";
import { createTinyModel } from "../test/helpers/tiny-model.js";
import { AdapterRegistry } from "./adapter-registry.js";
import { AdapterWatcher, type AdapterSwappedEvent } from "./adapter-watcher.js";
import { loadAndProve, proveServing, type ProbeGenerate } from "./serving-prover.js";

/**
 * The full serving path on real GGUF inference: publish real LoRA adapters (with eval-time probe outputs) into
 * the registry, switch loras/current, the watcher notices, the model loads the version into its "stable" slot
 * and proves it by greedy probes; a slot serving anything else is ADAPTER_STALE.
 */
const PROMPTS = ["How do I reset my password?", "list files in a directory"];
const TARGETS = ["attn_q", "attn_v", "ffn_up"];

let dir: string;
let base: string;
let model: LlamaChatModel;
let registry: AdapterRegistry;
let generate: ProbeGenerate;
const paths: Record<"a" | "b", string> = { a: "", b: "" };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "council-prove-"));
  base = existsSync(SEEDLING_PATH) ? SEEDLING_PATH : await createTinyModel({ dir, seed: 1 });
  model = await LlamaChatModel.create({ modelPath: base, threads: 1, contextSize: 512, parallel: 1 });
  generate = async (prompt, slot) => String((await model.invoke([new HumanMessage(prompt)], { maxTokens: 16, temperature: 0, ignoreEos: true, adapter: slot })).content);
  registry = await AdapterRegistry.create({ config: { dataDir: join(dir, "data") } });
  for (const [name, seed] of [["a", 7], ["b", 9]] as const) {
    paths[name] = join(dir, `${name}.gguf`);
    await writeLoraAdapter({ base, out: paths[name], rank: 4, alpha: 8, targets: TARGETS, init: "random", seed, randomScale: 2 });
  }
});
afterAll(async () => {
  await model?.dispose();
  await rm(dir, { recursive: true, force: true });
});

/** What the eval gate does: greedy outputs of the candidate for the probe prompts, stored in eval.json. */
async function publishWithProbes(path: string): Promise<string> {
  await model.setAdapter({ slot: "eval", path, version: "eval" });
  const probes = [];
  for (const prompt of PROMPTS) probes.push({ prompt, output: await generate(prompt, "eval") });
  await model.removeAdapter("eval");
  return (await registry.publish({ adapterPath: path, training: { base }, evaluation: { probes } })).version;
}

describe("serving proof on a real GGUF", () => {
  it("a switch of loras/current is noticed, loaded into the stable slot and proven; a wrong adapter is ADAPTER_STALE", async () => {
    const a = await publishWithProbes(paths.a);
    const b = await publishWithProbes(paths.b);
    expect((await registry.readEval(a)).probes).not.toEqual((await registry.readEval(b)).probes);
    const metrics = createMetrics({ defaultMetrics: false });
    const watcher = await AdapterWatcher.create({ registry, pollIntervalMs: 100 });
    const proven: string[] = [];
    const failures: unknown[] = [];
    watcher.on("adapter-swapped", (event: AdapterSwappedEvent) => {
      if (event.version === null || event.adapterPath === null) return;
      void registry
        .readEval(event.version)
        .then(({ probes }) => loadAndProve({ host: model, slot: "stable", version: event.version!, adapterPath: event.adapterPath!, probes, generate, metrics }))
        .then(({ report }) => proven.push(report.version), (error: unknown) => failures.push(error));
    });
    try {
      await registry.activate(a, { reason: "night 1" });
      await waitFor(() => proven.length === 1);
      expect(model.adapters().find((slot) => slot.slot === "stable")).toMatchObject({ version: a });
      await registry.activate(b, { reason: "night 2" });
      await waitFor(() => proven.length === 2);
      expect(proven).toEqual([a, b]);
      expect(failures).toEqual([]);

      // The registry says b, but the slot serves a (a stale process): loud ADAPTER_STALE.
      await model.setAdapter({ slot: "stable", path: paths.a, version: b });
      await expect(proveServing({ version: b, slot: "stable", probes: (await registry.readEval(b)).probes, generate, metrics })).rejects.toMatchObject({ code: "ADAPTER_STALE" });
      // Loading the wrong file for a version fails the proof and puts the last good adapter back.
      await model.setAdapter({ slot: "stable", path: paths.b, version: b });
      await expect(loadAndProve({ host: model, slot: "stable", version: a, adapterPath: paths.b, probes: (await registry.readEval(a)).probes, generate })).rejects.toMatchObject({ code: "ADAPTER_STALE" });
      expect(model.adapters().find((slot) => slot.slot === "stable")).toMatchObject({ version: b, path: paths.b });
      expect((await metrics.registry.getSingleMetric("council_adapter_probe_failures_total")!.get()).values[0]?.value).toBe(1);
    } finally {
      await watcher.dispose();
    }
  });
});

async function waitFor(condition: () => boolean, limitMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > limitMs) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
