import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { BackendRegistry, defineBackend, isCouncilError, loadConfig } from "../core/index.js";
import { HashEmbeddings } from "../models/index.js";
import { InMemoryStore } from "./in-memory-store.js";
import { inMemoryStore, memoryStores, postgresMemoryStore, sqliteMemoryStore, type MemoryStoreBackend } from "./memory-stores.js";
import { openMemory } from "./open-from-config.js";

const embeddings = new HashEmbeddings({ dimensions: 32 });
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("memory store registry", () => {
  it("defaults memory.store to sqlite, the SQLite + FAISS store", () => {
    const config = loadConfig({ env: {} });
    expect(config.memory.store).toBe("sqlite");
    expect(memoryStores.get(config.memory.store)).toBe(sqliteMemoryStore);
    expect(loadConfig({ env: { COUNCIL_STORE: "in-memory" } }).memory.store).toBe("in-memory");
  });

  it("opens the store COUNCIL_STORE names", async () => {
    const config = loadConfig({ env: { COUNCIL_STORE: "in-memory" } });
    const memory = await openMemory({ config, embeddings });
    expect(memory).toBeInstanceOf(InMemoryStore);
    await memory.dispose();
  });

  it("refuses an unknown store with BACKEND_UNKNOWN listing the registered ones", async () => {
    const config = loadConfig({ env: { COUNCIL_STORE: "pgvector" } });
    const error = await openMemory({ config, embeddings }).catch((caught: unknown) => caught);
    expect(isCouncilError(error, "BACKEND_UNKNOWN")).toBe(true);
    expect((error as Error).message).toBe('Unknown memory store "pgvector". Set COUNCIL_STORE (config key "memory.store") to one of: sqlite, in-memory, postgres.');
  });

  it("COUNCIL_STORE=postgres needs COUNCIL_DATABASE_URL, a postgres:// URL (CONFIG_INVALID naming the variable, before any connection)", async () => {
    expect(memoryStores.get("postgres")).toBe(postgresMemoryStore);
    const missing = await openMemory({ config: loadConfig({ env: { COUNCIL_STORE: "postgres" } }), embeddings }).catch((caught: unknown) => caught);
    expect(isCouncilError(missing, "CONFIG_INVALID")).toBe(true);
    expect((missing as Error).message).toBe('The postgres backend needs COUNCIL_DATABASE_URL (config key "memory.databaseUrl").');
    const wrong = await openMemory({ config: loadConfig({ env: { COUNCIL_STORE: "postgres", COUNCIL_DATABASE_URL: "mysql://db/council" } }), embeddings }).catch((caught: unknown) => caught);
    expect(isCouncilError(wrong, "CONFIG_INVALID")).toBe(true);
    expect((wrong as Error).message).toContain("COUNCIL_DATABASE_URL");
  });

  it("a new store is one definition plus one registration, picked by name with its own config slice", async () => {
    const opened: string[] = [];
    const scratch: MemoryStoreBackend = defineBackend({
      name: "scratch",
      description: "in memory, tagged",
      configSchema: z.object({ dataDir: z.string() }),
      capabilities: { persistent: false, sharedAcrossReplicas: true },
      open: async ({ dataDir }, context) => {
        opened.push(dataDir);
        return InMemoryStore.create({ embeddings: context.embeddings });
      },
    });
    const registry = new BackendRegistry<MemoryStoreBackend>({ kind: "memory store", configKey: "memory.store" }).register(inMemoryStore).register(scratch);
    const dataDir = mkdtempSync(join(tmpdir(), "council-stores-"));
    dirs.push(dataDir);
    const memory = await openMemory({ config: loadConfig({ env: { COUNCIL_STORE: "scratch", COUNCIL_DATA_DIR: dataDir } }), embeddings, registry });
    expect(opened).toEqual([dataDir]);
    await memory.dispose();
    expect(registry.get("scratch").capabilities.sharedAcrossReplicas).toBe(true);
  });

  it("declares typed capabilities", () => {
    expect(sqliteMemoryStore.capabilities).toEqual({ persistent: true, sharedAcrossReplicas: false });
    expect(inMemoryStore.capabilities).toEqual({ persistent: false, sharedAcrossReplicas: false });
    expect(postgresMemoryStore.capabilities).toEqual({ persistent: true, sharedAcrossReplicas: true });
  });
});
