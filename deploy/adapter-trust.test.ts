import { chmod, mkdir, mkdtemp, readFile, readlink, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isCouncilError } from "../core/index.js";
import { AdapterRegistry } from "./adapter-registry.js";
import { rollbackDeployment } from "./rollback.js";
import { writeTestAdapter } from "./test-adapter.js";

let root: string;
let registry: AdapterRegistry;

async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return isCouncilError(error) ? error.code : error;
  }
  return "resolved";
}

async function publish(salt: string): Promise<string> {
  const path = join(root, `${salt}.gguf`);
  await writeTestAdapter({ path, salt });
  return (await registry.publish({ adapterPath: path, training: {}, evaluation: { probes: [] } })).version;
}

/** Replaces a published (read-only) adapter.gguf with `replace(path)`. */
async function tamper(version: string, replace: (path: string) => Promise<void>): Promise<void> {
  const path = join(registry.paths.versions, version, "adapter.gguf");
  await chmod(path, 0o644);
  await rm(path);
  await replace(path);
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "council-trust-"));
  registry = await AdapterRegistry.create({ config: { dataDir: root } });
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe("adapter integrity: a version is only loaded or switched to when its file is its own", () => {
  it("verify returns the real path of an untouched version, and again from the cache", async () => {
    const version = await publish("a");
    const first = await registry.verify(version);
    expect(first.adapterPath).toBe(join(await realpath(registry.paths.versions), version, "adapter.gguf"));
    expect(await registry.verify(version)).toEqual(first);
  });

  it("refuses an adapter.gguf symlinked outside loras/versions (ADAPTER_INVALID), in verify, activate and rollback --to", async () => {
    const version = await publish("a");
    const outside = join(root, "outside.gguf");
    await writeFile(outside, await readFile(join(registry.paths.versions, version, "adapter.gguf")));
    await tamper(version, (path) => symlink(outside, path));
    expect(await codeOf(registry.verify(version))).toBe("ADAPTER_INVALID");
    expect(await codeOf(registry.activate(version, { reason: "x" }))).toBe("ADAPTER_INVALID");
    expect(await codeOf(registry.rollback({ to: version, reason: "x" }))).toBe("ADAPTER_INVALID");
    expect(await registry.current()).toBeNull();
  });

  it("refuses an adapter whose bytes no longer match the content hash in its version name", async () => {
    const a = await publish("a");
    const b = await publish("b");
    // A valid LoRA GGUF, just not the one published as `a` (here: b's bytes, also a symlink inside versions/).
    await tamper(a, (path) => writeTestAdapter({ path, salt: "swapped" }));
    const error = await registry.verify(a).catch((caught: unknown) => caught);
    expect(isCouncilError(error, "ADAPTER_INVALID")).toBe(true);
    expect((error as Error).message).toContain("content hash");
    expect(await codeOf(registry.activate(a, { reason: "x" }))).toBe("ADAPTER_INVALID");
    await tamper(a, (path) => symlink(join("..", b, "adapter.gguf"), path));
    expect(await codeOf(registry.verify(a))).toBe("ADAPTER_INVALID");
    expect((await registry.verify(b)).version).toBe(b);
  });

  it("re-hashes a file changed in place after it was verified (cache keyed by inode and times)", async () => {
    const version = await publish("a");
    await registry.verify(version);
    const path = join(registry.paths.versions, version, "adapter.gguf");
    await chmod(path, 0o644);
    await writeFile(path, Buffer.concat([await readFile(path), Buffer.from("x")]));
    expect(await codeOf(registry.verify(version))).toBe("ADAPTER_INVALID");
  });
});

describe("a broken loras/current is repaired by deploy --now and rollback --to", () => {
  const breakings: Array<[string, () => Promise<void>]> = [
    ["dangling", () => symlink("versions/0123456789abcdef", registry.paths.current)],
    ["outside", async () => {
      await mkdir(join(root, "evil"));
      await symlink(join(root, "evil"), registry.paths.current);
    }],
  ];

  for (const [kind, breakCurrent] of breakings) {
    it(`activate (deploy --now) replaces a ${kind} current without reading its target`, async () => {
      const version = await publish("a");
      await breakCurrent();
      expect(isCouncilError((await registry.checkCurrent()).problem)).toBe(true);
      expect(await registry.activate(version, { reason: "council deploy --now" })).toEqual({ from: null, to: version });
      expect(await registry.current()).toBe(version);
      expect(await registry.checkCurrent()).toEqual({ version, problem: null });
      expect(await registry.previous()).toBeNull();
    });

    it(`rollbackDeployment --to replaces a ${kind} current`, async () => {
      const version = await publish("a");
      await breakCurrent();
      const summary = await rollbackDeployment({ registry, reason: "manual: council rollback", to: version });
      expect(summary).toMatchObject({ removed: null, restored: version });
      expect(await readlink(registry.paths.current)).toBe(`versions/${version}`);
    });
  }

  it("checkCurrent reports no current as no problem", async () => {
    expect(await registry.checkCurrent()).toEqual({ version: null, problem: null });
  });
});
