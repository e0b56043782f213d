import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HumanMessage } from "@langchain/core/messages";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetrics, NATIVE_BUILD_DIR } from "../core/index.js";
import { AdapterRegistry, PostgresReleaseStore, rollbackDeployment, sha256File, type ProbeGenerate } from "../deploy/index.js";
import { applyMigrations } from "../memory/index.js";
import { LlamaServerChatModel, LlamaServerProcess, writeLoraAdapter } from "../models/index.js";
import { havePostgres, startPostgres, type PostgresServer } from "../test/helpers/postgres.js";
import { createTinyModel } from "../test/helpers/tiny-model.js";
import { startAdapterServing, type AdapterServing } from "./adapter-serving.js";

/**
 * Two replicas, one real llama-server (native/build/bin) holding both adapter versions, one release record in a real
 * Postgres 15: each replica's serving follows the record and selects the server's adapter per request (lora field).
 */
const haveServer = existsSync(join(NATIVE_BUILD_DIR, "bin", "llama-server"));
const PROMPT = "How do I list hidden files?";
const OPTIONS = { maxTokens: 12, ignoreEos: true };

let dir: string;
let postgres: PostgresServer;
let llama: LlamaServerProcess;
let controller: PostgresReleaseStore;
let controllerRegistry: AdapterRegistry;
const stores: PostgresReleaseStore[] = [];
const servings: AdapterServing[] = [];
const registries: AdapterRegistry[] = [];
const chats: LlamaServerChatModel[] = [];
const versions: string[] = [];
const outputs = new Map<string, string>();

/** One answer; a failed request says what the shared server logged last (the CI dry run of 2026-12-07 saw it unreachable once in 13 runs). */
async function answer(chat: LlamaServerChatModel, adapter: string | null): Promise<string> {
  try {
    return String((await chat.invoke([new HumanMessage(PROMPT)], { ...OPTIONS, adapter })).content);
  } catch (error) {
    throw new Error(`${(error as Error).message}\nllama-server log (last 2,000 characters):\n${llama?.log.slice(-2_000) ?? "(not started)"}`, { cause: error });
  }
}

describe.skipIf(!haveServer || !havePostgres)("replicas sharing one llama-server follow one release record", () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "council-shared-llama-"));
    postgres = await startPostgres();
    const url = await postgres.createDatabase("release");
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    const client = await pool.connect();
    await applyMigrations(client);
    client.release();
    await pool.end();

    // Two real LoRA adapters for a tiny model, staged as `<version>/adapter.gguf` (the registry's layout) for the server.
    const base = await createTinyModel({ dir, seed: 1 });
    const staged: string[] = [];
    for (const seed of [7, 9]) {
      const file = join(dir, `adapter-${seed}.gguf`);
      await writeLoraAdapter({ base, out: file, rank: 4, alpha: 8, targets: ["attn_q", "attn_v", "ffn_up"], init: "random", seed, randomScale: 2 });
      const version = (await sha256File(file)).slice(0, 16);
      await mkdir(join(dir, "server", version), { recursive: true });
      await copyFile(file, join(dir, "server", version, "adapter.gguf"));
      staged.push(join(dir, "server", version, "adapter.gguf"));
      versions.push(version);
    }
    llama = await LlamaServerProcess.start({ modelPath: base, adapters: staged, threads: 1, contextSize: 1024, parallel: 2 });
    // The gate's probes: what each version answers at eval time.
    const probe = await LlamaServerChatModel.create({ baseUrl: llama.url });
    for (const [i, version] of versions.entries()) {
      await probe.setAdapter({ slot: "eval", path: staged[i]!, version });
      outputs.set(version, await answer(probe, "eval"));
    }

    for (const name of ["controller", "a", "b"]) {
      const registry = await AdapterRegistry.create({ config: { dataDir: join(dir, name) } });
      // Replica b publishes nothing: it materialises each version the record names from Postgres (migration 11).
      if (name !== "b") for (const seed of [7, 9]) await registry.publish({ adapterPath: join(dir, `adapter-${seed}.gguf`), training: {}, evaluation: { probes: [{ prompt: PROMPT, output: outputs.get(versions[seed === 7 ? 0 : 1]!)! }] } });
      const store = await PostgresReleaseStore.create({ url, verify: (version) => registry.verify(version), shareFiles: { paths: registry.paths } });
      if (name === "controller") {
        controller = store;
        controllerRegistry = registry;
        continue;
      }
      stores.push(store);
      registries.push(registry);
      const chat = await LlamaServerChatModel.create({ baseUrl: llama.url });
      const generate: ProbeGenerate = (prompt, slot) => (prompt === PROMPT ? answer(chat, slot) : Promise.reject(new Error("unknown probe")));
      chats.push(chat);
      servings.push(await startAdapterServing({ registry, releases: store, host: chat, generate, metrics: createMetrics({ defaultMetrics: false }), base: "tiny" }));
    }
  }, 300_000);

  afterAll(async () => {
    for (const serving of servings) await serving.dispose();
    for (const store of [...stores, controller]) await store?.dispose();
    await llama?.dispose();
    await postgres?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const routed = (serving: AdapterServing, userId: string) => serving.selectAdapter({ userId, sessionId: "s", question: "q" });
  async function until(condition: () => boolean, limitMs = 30_000): Promise<void> {
    const deadline = Date.now() + limitMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error("replicas did not follow the release");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it("stable, canary and rollback: both replicas answer from the server's adapter the record names", async () => {
    const [v1, v2] = versions as [string, string];
    expect(outputs.get(v1)).not.toBe(outputs.get(v2));

    await controller.activate(v1, { reason: "setup" });
    await until(() => servings.every((serving) => routed(serving, "u1")?.version === v1));
    for (const chat of chats) expect(await answer(chat, "stable")).toBe(outputs.get(v1));

    const now = new Date().toISOString();
    await controller.setCanary({ version: v2, stable: v1, weight: 100, step: 2, status: "running", startedAt: now, updatedAt: now, reason: null });
    await until(() => servings.every((serving) => routed(serving, "u1")?.version === v2));
    for (const [i, chat] of chats.entries()) expect(await answer(chat, routed(servings[i]!, "u1")!.slot)).toBe(outputs.get(v2));

    await rollbackDeployment({ registry: controllerRegistry, releases: controller, reason: "manual: test", summaryDir: dir });
    await until(() => servings.every((serving) => routed(serving, "u1")?.version === v1));
    for (const [i, chat] of chats.entries()) expect(await answer(chat, routed(servings[i]!, "u1")!.slot)).toBe(outputs.get(v1));
    expect((await registries[1]!.list()).map((item) => item.version).sort()).toEqual([v1, v2].sort());
  });
});
