import { lstat, mkdtemp, readFile, readlink, rm, symlink, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isCouncilError } from "../core/index.js";
import { AdapterRegistry } from "./adapter-registry.js";
import { checkLoraGgufHeader } from "./adapter-file.js";
import { writeTestAdapter } from "./test-adapter.js";

let root: string;
let registry: AdapterRegistry;

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(isCouncilError(caught) ? caught.code : caught).toBe(code);
}

async function publish(salt: string) {
  const path = join(root, `${salt}.gguf`);
  await writeTestAdapter({ path, salt });
  return registry.publish({ adapterPath: path, training: { salt }, evaluation: { probes: [{ prompt: "p", output: salt }] } });
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "council-registry-"));
  registry = await AdapterRegistry.create({ config: { dataDir: root } });
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe("AdapterRegistry", () => {
  it("publishes immutable content-hashed versions, idempotently", async () => {
    const first = await publish("a");
    expect(first.created).toBe(true);
    expect(first.version).toMatch(/^[0-9a-f]{16}$/);
    const again = await publish("a");
    expect(again).toEqual({ ...first, created: false });
    const info = await lstat(join(first.dir, "adapter.gguf"));
    expect(info.mode & 0o222).toBe(0);
    expect((await registry.readEval(first.version)).probes).toEqual([{ prompt: "p", output: "a" }]);
    expect(await registry.readTraining(first.version)).toEqual({ salt: "a" });
    expect((await registry.list()).map((v) => v.version)).toEqual([first.version]);
  });

  it("publishes a trainer output folder and refuses one without a valid training.json", async () => {
    const out = join(root, "run-adapter");
    await mkdir(out);
    await writeTestAdapter({ path: join(out, "adapter.gguf"), salt: "dir" });
    await expectCode(registry.publishDir({ adapterDir: out, evaluation: { probes: [] } }), "ADAPTER_INVALID");
    await writeFile(join(out, "training.json"), JSON.stringify({ finalLoss: 0.4 }));
    const { version } = await registry.publishDir({ adapterDir: out, evaluation: { probes: [{ prompt: "p", output: "o" }] } });
    expect(await registry.readTraining(version)).toEqual({ finalLoss: 0.4 });
  });

  it("switches current and previous with relative symlinks and keeps a history", async () => {
    const a = await publish("a");
    const b = await publish("b");
    expect(await registry.current()).toBeNull();
    await registry.activate(a.version, { reason: "first" });
    await registry.activate(b.version, { reason: "second" });
    expect(await readlink(registry.paths.current)).toBe(`versions/${b.version}`);
    expect(await registry.current()).toBe(b.version);
    expect(await registry.previous()).toBe(a.version);
    const back = await registry.rollback({ reason: "manual" });
    expect(back).toEqual({ from: b.version, to: a.version });
    expect(await registry.current()).toBe(a.version);
    // a was activated with nothing before it: no previous, so a second rollback has nowhere to go.
    expect(await registry.previous()).toBeNull();
    await expectCode(registry.rollback({ reason: "again" }), "ADAPTER_NOT_FOUND");
    expect((await registry.history()).map((entry) => entry.action)).toEqual(["activate", "activate", "rollback"]);
  });

  it("after a rollback, previous is what the restored version replaced, never the removed one", async () => {
    const [a, b, c] = [await publish("a"), await publish("b"), await publish("c")];
    await registry.activate(a.version, { reason: "1" });
    await registry.activate(b.version, { reason: "2" });
    await registry.activate(c.version, { reason: "3" });
    await registry.rollback({ reason: "bad c" });
    expect(await registry.current()).toBe(b.version);
    expect(await registry.previous()).toBe(a.version);
    await registry.rollback({ to: c.version, reason: "explicit" });
    expect(await registry.current()).toBe(c.version);
  });

  it("rejects unsafe version names", async () => {
    for (const name of ["../etc", "a/b", "..", "abc\\def", "/abs", "notahash"]) await expectCode(registry.get(name), "PATH_UNSAFE");
    await expectCode(registry.activate("0123456789abcdef", { reason: "x" }), "ADAPTER_NOT_FOUND");
  });

  it("rejects a current link pointing outside loras/versions", async () => {
    const outside = join(root, "evil");
    await mkdir(outside);
    await symlink(outside, registry.paths.current);
    await expectCode(registry.current(), "PATH_UNSAFE");
    await rm(registry.paths.current);
    await symlink("versions/../../evil", registry.paths.current);
    await expectCode(registry.current(), "PATH_UNSAFE");
  });

  it("rejects a version dir that is itself a symlink to elsewhere", async () => {
    const outside = join(root, "elsewhere");
    await mkdir(outside);
    await symlink(outside, join(registry.paths.versions, "0123456789abcdef"));
    await symlink("versions/0123456789abcdef", registry.paths.current);
    await expectCode(registry.current(), "PATH_UNSAFE");
  });

  it("refuses corrupt adapters at publish", async () => {
    const bad = join(root, "bad.gguf");
    await writeFile(bad, "not a gguf at all, just text");
    await expectCode(registry.publish({ adapterPath: bad, training: {}, evaluation: { probes: [] } }), "ADAPTER_INVALID");
    await writeTestAdapter({ path: bad, generalType: "model" });
    await expectCode(registry.publish({ adapterPath: bad, training: {}, evaluation: { probes: [] } }), "ADAPTER_INVALID");
    const good = join(root, "good.gguf");
    await writeTestAdapter({ path: good });
    const bytes = await readFile(good);
    await writeFile(bad, bytes.subarray(0, 40));
    await expectCode(checkLoraGgufHeader(bad), "ADAPTER_INVALID");
    await expectCode(checkLoraGgufHeader(join(root, "missing.gguf")), "ADAPTER_NOT_FOUND");
    expect((await registry.list()).length).toBe(0);
  });
});
