import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HumanMessage } from "@langchain/core/messages";
import { startAdapterServing } from "../../council/index.js";
import { createMetrics, SEEDLING_PATH } from "../../core/index.js";
import { AdapterRegistry, type ProbeGenerate } from "../../deploy/index.js";
import { writeLoraAdapter } from "../../models/gguf/index.js";
import { LlamaChatModel } from "../../models/index.js";
import { percentile } from "./stats.js";

export interface SwapBenchOptions {
  /** Base GGUF. @default models/seedling.gguf */
  model?: string;
  /** Registry switches of loras/current while clients ask. @default 6 */
  swaps?: number;
  /** Concurrent clients, each one question in flight. @default 4 */
  clients?: number;
  /** Tokens per answer. @default 24 */
  maxTokens?: number;
  /** Watcher poll interval (the runtime's default is 500 ms). @default 500 */
  pollIntervalMs?: number;
}

export interface SwapBenchResult {
  model: string;
  swaps: number;
  clients: number;
  requests: number;
  failedRequests: number;
  errors: string[];
  /** From `registry.activate` until the first answer generated on the new version finished. */
  msUntilServed: { p50: number; max: number; all: number[] };
  /** From `registry.activate` until the stable slot held the new version (loaded and proven by its probes). */
  msUntilLoaded: { p50: number; max: number };
  pollIntervalMs: number;
}

const QUESTIONS = ["How do I list files?", "How do I extract a tar archive?", "How do I reset my password?", "How do I see disk usage?"];
const PROBES = ["How do I reset my password?", "list files in a directory"];

/**
 * Adapter hot swap under load, on the real serving path: a real GGUF with node-llama-cpp, the real registry
 * (content-hashed folders, atomic loras/current), the runtime's startAdapterServing (watcher → load into the
 * stable slot → probe proof → router). Clients keep asking while loras/current flips between two real LoRA
 * adapters; every request must succeed, and the new version must answer soon after the switch.
 */
export async function runSwapBench({ model = SEEDLING_PATH, swaps = 6, clients = 4, maxTokens = 24, pollIntervalMs = 500 }: SwapBenchOptions = {}): Promise<SwapBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), "council-perf-swap-"));
  const chat = await LlamaChatModel.create({ modelPath: model, threads: 1, contextSize: 512, parallel: clients });
  const metrics = createMetrics({ defaultMetrics: false });
  try {
    const registry = await AdapterRegistry.create({ config: { dataDir: join(dir, "data") } });
    const generate: ProbeGenerate = async (prompt, slot) => String((await chat.invoke([new HumanMessage(prompt)], { maxTokens: 12, temperature: 0, ignoreEos: true, adapter: slot })).content);
    const versions: string[] = [];
    for (const seed of [7, 9]) {
      const path = join(dir, `adapter-${seed}.gguf`);
      await writeLoraAdapter({ base: model, out: path, rank: 4, alpha: 8, targets: ["attn_q", "attn_v", "ffn_up"], init: "random", seed, randomScale: 2 });
      // the gate's eval-time probe outputs, which the serving side must reproduce
      await chat.setAdapter({ slot: "eval", path, version: "eval" });
      const probes = [];
      for (const prompt of PROBES) probes.push({ prompt, output: await generate(prompt, "eval") });
      await chat.removeAdapter("eval");
      versions.push((await registry.publish({ adapterPath: path, training: { base: model }, evaluation: { probes } })).version);
    }
    await registry.activate(versions[0]!, { reason: "perf: initial" });
    const serving = await startAdapterServing({ registry, host: chat, generate, metrics, base: "perf", pollIntervalMs });
    const errors: string[] = [];
    let requests = 0;
    let failed = 0;
    let stop = false;
    const finishedOn = new Map<string, number[]>();
    const client = async (index: number) => {
      for (let i = 0; !stop; i++) {
        const selection = serving.selectAdapter({ userId: `user-${index}`, sessionId: `s-${index}`, question: "q" });
        requests++;
        try {
          await chat.invoke([new HumanMessage(QUESTIONS[(index + i) % QUESTIONS.length]!)], { maxTokens, temperature: 0, ...(selection ? { adapter: selection.slot } : {}) });
          const version = selection?.version ?? "base";
          finishedOn.set(version, [...(finishedOn.get(version) ?? []), performance.now()]);
        } catch (error) {
          failed++;
          if (errors.length < 10) errors.push((error as Error).message);
        }
      }
    };
    const running = Array.from({ length: clients }, (_, index) => client(index));
    const served: number[] = [];
    const loaded: number[] = [];
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      for (let swap = 1; swap <= swaps; swap++) {
        const next = versions[swap % 2]!;
        const started = performance.now();
        await registry.activate(next, { reason: `perf: swap ${swap}` });
        await until(() => serving.router.select("probe-user").version === next, 60_000);
        loaded.push(performance.now() - started);
        await until(() => (finishedOn.get(next) ?? []).some((at) => at > started), 60_000);
        served.push(Math.min(...finishedOn.get(next)!.filter((at) => at > started)) - started);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    } finally {
      stop = true;
      await Promise.all(running);
      await serving.dispose();
    }
    const round = (x: number) => Math.round(x * 10) / 10;
    return {
      model,
      swaps,
      clients,
      requests,
      failedRequests: failed,
      errors,
      msUntilServed: { p50: round(percentile(served, 0.5)), max: round(Math.max(...served)), all: served.map(round) },
      msUntilLoaded: { p50: round(percentile(loaded, 0.5)), max: round(Math.max(...loaded)) },
      pollIntervalMs,
    };
  } finally {
    await chat.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

async function until(condition: () => boolean, limitMs: number): Promise<void> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > limitMs) throw new Error(`perf swap: condition not met within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
