import { createHash } from "node:crypto";
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AdapterRegistry } from "./adapter-registry.js";
import { SharedAdapterFiles, type AdapterBlobStore, type AdapterFileBlob } from "./adapter-file-share.js";
import { writeTestAdapter } from "./test-adapter.js";

/** An in-memory blob store that records what it was given and hands back copies (a fake of the Postgres table). */
class FakeBlobs implements AdapterBlobStore {
  readonly versions = new Map<string, AdapterFileBlob[]>();
  puts = 0;
  async has(version: string): Promise<boolean> {
    return this.versions.has(version);
  }
  async put(version: string, files: readonly AdapterFileBlob[]): Promise<void> {
    this.puts += 1;
    if (!this.versions.has(version)) this.versions.set(version, files.map((file) => ({ ...file, bytes: Buffer.from(file.bytes) })));
  }
  async get(version: string): Promise<AdapterFileBlob[] | null> {
    return this.versions.get(version)?.map((file) => ({ ...file, bytes: Buffer.from(file.bytes) })) ?? null;
  }
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

let roots: string[] = [];
async function replica(): Promise<AdapterRegistry> {
  const root = await mkdtemp(join(tmpdir(), "council-share-"));
  roots.push(root);
  return AdapterRegistry.create({ config: { dataDir: root } });
}

async function publish(registry: AdapterRegistry, salt: string): Promise<string> {
  const path = join(registry.paths.loras, `${salt.slice(0, 8)}.gguf`);
  await writeTestAdapter({ path, salt });
  return (await registry.publish({ adapterPath: path, training: { steps: 3 }, evaluation: { probes: [{ prompt: "p", output: "o" }] } })).version;
}

/** What is in loras/ apart from versions/ and the test's own source files: temp folders a materialise left behind. */
async function leftovers(registry: AdapterRegistry): Promise<string[]> {
  return (await readdir(registry.paths.loras)).filter((name) => name.startsWith("."));
}

describe("SharedAdapterFiles (fake blob store)", () => {
  let a: AdapterRegistry;
  let b: AdapterRegistry;
  let blobs: FakeBlobs;
  beforeEach(async () => {
    roots = [];
    [a, b] = [await replica(), await replica()];
    blobs = new FakeBlobs();
  });
  afterEach(async () => {
    await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
  });

  it("uploads a version once and materialises it on another data dir, where the registry verifies and lists it", async () => {
    const version = await publish(a, "one");
    const shareA = new SharedAdapterFiles({ paths: a.paths, blobs });
    await shareA.upload(version);
    await shareA.upload(version);
    expect(blobs.puts).toBe(1);
    expect(blobs.versions.get(version)?.map((file) => file.name).sort()).toEqual(["adapter.gguf", "eval.json", "training.json"]);

    const shareB = new SharedAdapterFiles({ paths: b.paths, blobs });
    await expect(b.verify(version)).rejects.toMatchObject({ code: "ADAPTER_NOT_FOUND" });
    expect(await shareB.materialise(version)).toBe("materialised");
    expect(await shareB.materialise(version)).toBe("present");
    expect((await b.verify(version)).version).toBe(version);
    expect((await b.list()).map((item) => item.version)).toEqual([version]);
    expect(await b.readEval(version)).toEqual(await a.readEval(version));
    expect(await readFile(join(b.paths.versions, version, "adapter.gguf"))).toEqual(await readFile(join(a.paths.versions, version, "adapter.gguf")));
    expect(await leftovers(b)).toEqual([]);
  });

  it("refuses a stored adapter whose bytes do not hash to the version name, and leaves nothing in versions/", async () => {
    const version = await publish(a, "two");
    await new SharedAdapterFiles({ paths: a.paths, blobs }).upload(version);
    const adapter = blobs.versions.get(version)!.find((file) => file.name === "adapter.gguf")!;
    adapter.bytes = Buffer.concat([adapter.bytes, Buffer.from("tampered")]);
    adapter.sha256 = sha256(adapter.bytes); // a consistent row: only the content-hash check can catch it
    const shareB = new SharedAdapterFiles({ paths: b.paths, blobs });
    await expect(shareB.materialise(version)).rejects.toMatchObject({ code: "ADAPTER_INVALID", message: expect.stringContaining("content hash") });
    expect(await readdir(b.paths.versions)).toEqual([]);
    expect(await leftovers(b)).toEqual([]);
  });

  it("refuses a stored file that does not match its stored sha256 before writing anything", async () => {
    const version = await publish(a, "three");
    await new SharedAdapterFiles({ paths: a.paths, blobs }).upload(version);
    blobs.versions.get(version)!.find((file) => file.name === "eval.json")!.bytes = Buffer.from('{"probes":[]}\n');
    await expect(new SharedAdapterFiles({ paths: b.paths, blobs }).materialise(version)).rejects.toMatchObject({ code: "ADAPTER_INVALID", message: expect.stringContaining("eval.json") });
    expect(await readdir(b.paths.versions)).toEqual([]);
  });

  it("a write that fails part-way leaves no version folder and no temp folder", async () => {
    const version = await publish(a, "four");
    await new SharedAdapterFiles({ paths: a.paths, blobs }).upload(version);
    const bytes = Buffer.from("x");
    blobs.versions.get(version)!.push({ name: "n".repeat(300), bytes, sha256: sha256(bytes) }); // ENAMETOOLONG after the others
    await expect(new SharedAdapterFiles({ paths: b.paths, blobs }).materialise(version)).rejects.toMatchObject({ code: "ENAMETOOLONG" });
    expect(await readdir(b.paths.versions)).toEqual([]);
    expect(await leftovers(b)).toEqual([]);
  });

  it("a reader never sees the version folder before it is complete and verified", async () => {
    const version = await publish(a, "five".repeat(1 << 18));
    await new SharedAdapterFiles({ paths: a.paths, blobs }).upload(version);
    const seen: string[][] = [];
    let done = false;
    const watcher = (async () => {
      while (!done) {
        const names = await readdir(join(b.paths.versions, version)).catch(() => null);
        if (names !== null) seen.push(names.sort());
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await new SharedAdapterFiles({ paths: b.paths, blobs }).materialise(version);
    done = true;
    await watcher;
    for (const names of seen) expect(names).toEqual(["adapter.gguf", "eval.json", "training.json"]);
    expect((await b.verify(version)).version).toBe(version);
  });

  it("refuses folders above the cap on upload and on materialise, with ADAPTER_TOO_LARGE", async () => {
    const version = await publish(a, "six");
    await expect(new SharedAdapterFiles({ paths: a.paths, blobs, maxBytes: 100 }).upload(version)).rejects.toMatchObject({ code: "ADAPTER_TOO_LARGE" });
    expect(blobs.versions.size).toBe(0);
    await new SharedAdapterFiles({ paths: a.paths, blobs }).upload(version);
    await expect(new SharedAdapterFiles({ paths: b.paths, blobs, maxBytes: 100 }).materialise(version)).rejects.toMatchObject({ code: "ADAPTER_TOO_LARGE" });
    expect(await readdir(b.paths.versions)).toEqual([]);
  });

  it("refuses to upload a local version changed after publishing, and says when a version is not shared", async () => {
    const version = await publish(a, "seven");
    const path = join(a.paths.versions, version, "adapter.gguf");
    await chmod(path, 0o644);
    await writeFile(path, Buffer.concat([await readFile(path), Buffer.from("x")]));
    await expect(new SharedAdapterFiles({ paths: a.paths, blobs }).upload(version)).rejects.toMatchObject({ code: "ADAPTER_INVALID" });
    expect(blobs.versions.size).toBe(0);
    await expect(new SharedAdapterFiles({ paths: b.paths, blobs }).materialise(version)).rejects.toMatchObject({ code: "ADAPTER_NOT_FOUND" });
    await expect(new SharedAdapterFiles({ paths: b.paths, blobs }).materialise("../etc")).rejects.toMatchObject({ code: "PATH_UNSAFE" });
  });
});
