import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadConfig, silentLogger, type CouncilConfig } from "../../core/index.js";
import { acquireRunLock, nightlyLockPath } from "../../cron/index.js";
import { AdapterRegistry, type AnalysisSource, type WindowStats } from "../../deploy/index.js";
import { writeTestAdapter } from "../../deploy/test-adapter.js";
import { writeLoraAdapter } from "../../models/gguf/index.js";
import { createTinyModel, TINY_MODEL_SHAPE } from "../../test/helpers/tiny-model.js";
import { EventLog, type EventInput, type EventSink } from "../../memory/index.js";
import { deployCommand } from "./deploy.js";
import { rollbackCommand } from "./rollback.js";
import { register as registerStatus } from "./status.js";

let root: string;
let config: CouncilConfig;
let registry: AdapterRegistry;

async function publish(salt: string): Promise<string> {
  const path = join(root, `${salt}.gguf`);
  await writeTestAdapter({ path, salt });
  return (await registry.publish({ adapterPath: path, training: {}, evaluation: { probes: [] } })).version;
}

const healthy: WindowStats = {
  canary: { requests: 50, successes: 50, successRate: 1, p95Ms: 200 },
  stable: { requests: 50, successes: 45, successRate: 0.9, p95Ms: 250 },
  windowSeconds: 0.1,
};
const fakeSource = (stats: WindowStats): AnalysisSource => ({ name: "fake", openWindow: async () => ({ close: async () => stats }) });

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "council-cli-"));
  // model.path points nowhere: these tests use header-only test adapters, so the base-model check is skipped.
  config = loadConfig({ env: {}, overrides: { dataDir: root, model: { path: join(root, "no-model.gguf") }, improve: { canaryIntervalSeconds: 0.1, canarySteps: "10,100" } } });
  registry = await AdapterRegistry.create({ config });
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe("council deploy", () => {
  it("--now switches current at once", async () => {
    const a = await publish("a");
    expect(await deployCommand({ config, version: a, now: true, logger: silentLogger })).toEqual({ mode: "now", from: null, to: a });
    expect(await registry.current()).toBe(a);
  });

  it("runs a canary to promotion under the run lock", async () => {
    const a = await publish("a");
    const b = await publish("b");
    await registry.activate(a, { reason: "setup" });
    const result = await deployCommand({ config, version: b, source: fakeSource(healthy), logger: silentLogger });
    expect(result.mode === "canary" && result.outcome.status).toBe("promoted");
    expect(await registry.current()).toBe(b);
  });

  it("refuses a CLI canary without Prometheus, and a canary while a run holds the lock", async () => {
    const a = await publish("a");
    await expect(deployCommand({ config, version: a, logger: silentLogger })).rejects.toMatchObject({ code: "CONFIG_INVALID", details: { key: "improve.prometheusUrl" } });
    const lock = await acquireRunLock({ path: nightlyLockPath(config), ttlSeconds: 60 });
    await expect(deployCommand({ config, version: a, source: fakeSource(healthy), logger: silentLogger })).rejects.toMatchObject({ code: "RUN_LOCKED" });
    await lock.release();
  });

  it("rejects unsafe and unknown versions", async () => {
    await expect(deployCommand({ config, version: "../../etc", now: true, logger: silentLogger })).rejects.toMatchObject({ code: "PATH_UNSAFE" });
    await expect(deployCommand({ config, version: "0123456789abcdef", now: true, logger: silentLogger })).rejects.toMatchObject({ code: "ADAPTER_NOT_FOUND" });
  });
});

describe("council deploy checks the adapter against the base model", () => {
  it("refuses an adapter trained for a different base with ADAPTER_MISMATCH", async () => {
    const baseA = await createTinyModel({ dir: root, seed: 1, name: "a.gguf" });
    const baseB = await createTinyModel({ dir: root, seed: 2, name: "b.gguf", shape: { ...TINY_MODEL_SHAPE, feedForward: 96 } });
    const adapter = join(root, "for-a.gguf");
    await writeLoraAdapter({ base: baseA, out: adapter, rank: 2, alpha: 4, targets: ["ffn_up"], init: "random", seed: 3 });
    const version = (await registry.publish({ adapterPath: adapter, training: {}, evaluation: { probes: [] } })).version;
    const forA = loadConfig({ env: {}, overrides: { dataDir: root, model: { path: baseA } } });
    const forB = loadConfig({ env: {}, overrides: { dataDir: root, model: { path: baseB } } });
    await expect(deployCommand({ config: forB, version, now: true, logger: silentLogger })).rejects.toMatchObject({ code: "ADAPTER_MISMATCH" });
    expect(await registry.current()).toBeNull();
    expect(await deployCommand({ config: forA, version, now: true, logger: silentLogger })).toMatchObject({ to: version });
  });
});

describe("council rollback", () => {
  it("goes back to previous or --to", async () => {
    const [a, b] = [await publish("a"), await publish("b")];
    await registry.activate(a, { reason: "1" });
    await registry.activate(b, { reason: "2" });
    expect(await rollbackCommand({ config, logger: silentLogger })).toMatchObject({ removed: b, restored: a });
    expect(await rollbackCommand({ config, to: b, logger: silentLogger })).toMatchObject({ removed: a, restored: b });
  });
});

describe("deploy and rollback in the event log", () => {
  it("appends the switch, the canary's outcome and the rollback with the operator as actor", async () => {
    const appended: EventInput[] = [];
    const events: EventSink = { append: async (event) => (appended.push(event), { id: "e", time: 0, ...event }) };
    const [a, b] = [await publish("a"), await publish("b")];
    await deployCommand({ config, version: a, now: true, logger: silentLogger, events, actor: "ops" });
    await deployCommand({ config, version: b, source: fakeSource(healthy), logger: silentLogger, events, actor: "ops" });
    await rollbackCommand({ config, logger: silentLogger, events, actor: "root" });
    expect(appended.map((event) => [event.type, event.actor, event.payload.version])).toEqual([
      ["adapter-promoted", "ops", a],
      ["adapter-deployed", "ops", b],
      ["adapter-promoted", "ops", b],
      ["adapter-rolled-back", "root", b],
    ]);
    expect(appended.at(-1)!.payload).toMatchObject({ restored: a, mode: "manual" });
    // the real log takes the same events
    const log = await EventLog.create({ dir: join(root, "events") });
    for (const event of appended) await log.append(event);
    expect((await log.events()).map((event) => event.type)).toHaveLength(4);
  });
});

describe("council status", () => {
  it("prints current, previous, canary weights and the last runs as JSON", async () => {
    const [a, b] = [await publish("a"), await publish("b")];
    await registry.activate(a, { reason: "1" });
    await registry.activate(b, { reason: "2" });
    const runDir = join(root, "data", "runs", "run-20261122T020000-abcd");
    await mkdir(runDir, { recursive: true });
    await writeFile(join(runDir, "summary.json"), JSON.stringify({ runId: "run-20261122T020000-abcd", outcome: "rolled-back", reasons: ["latency: canary p95 2500 ms > 1000 ms"], version: b }));
    vi.stubEnv("COUNCIL_DATA_DIR", root);
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      const program = new Command().exitOverride();
      registerStatus(program);
      await program.parseAsync(["node", "council", "status", "--json"]);
      const printed = JSON.parse(String(log.mock.calls[0]?.[0]));
      expect(printed).toMatchObject({ current: b, previous: a, canary: null, runs: [{ outcome: "rolled-back", reasons: ["latency: canary p95 2500 ms > 1000 ms"] }] });
      await program.parseAsync(["node", "council", "status"]);
      expect(String(log.mock.calls[1]?.[0])).toContain(`current:  ${b}`);
    } finally {
      log.mockRestore();
      vi.unstubAllEnvs();
    }
  });
});
