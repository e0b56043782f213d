import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCouncilError } from "../core/index.js";
import { writeGguf } from "./gguf/index.js";
import { resolveModelSource } from "./llama-model-source.js";

describe("resolveModelSource", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "council-source-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const codeOf = (promise: Promise<unknown>) => promise.then(() => "resolved", (error: unknown) => (isCouncilError(error) ? error.code : String(error)));

  it("accepts a well-formed GGUF", async () => {
    const path = join(dir, "ok.gguf");
    await writeGguf({ path, kv: [{ key: "general.architecture", type: "string", value: "llama" }], tensors: [{ name: "w", dims: [4], data: new Float32Array(4) }] });
    expect(await resolveModelSource({ source: path })).toBe(path);
  });

  it("MODEL_NOT_FOUND for a missing path or a directory", async () => {
    expect(await codeOf(resolveModelSource({ source: join(dir, "missing.gguf") }))).toBe("MODEL_NOT_FOUND");
    await mkdir(join(dir, "folder.gguf"));
    expect(await codeOf(resolveModelSource({ source: join(dir, "folder.gguf") }))).toBe("MODEL_NOT_FOUND");
  });

  it("MODEL_INVALID for a file with another magic or too short", async () => {
    await writeFile(join(dir, "text.gguf"), "this is some text that is long enough to have a header");
    await writeFile(join(dir, "short.gguf"), "GGUF");
    expect(await codeOf(resolveModelSource({ source: join(dir, "text.gguf") }))).toBe("MODEL_INVALID");
    expect(await codeOf(resolveModelSource({ source: join(dir, "short.gguf") }))).toBe("MODEL_INVALID");
  });

  it("MODEL_DOWNLOAD_OFFLINE for an hf: URI that is not in the local folder, without touching the network", async () => {
    const error = await resolveModelSource({ source: "hf:someone/some-model:Q4_K_M", modelsDir: join(dir, "hf") }).catch((caught: unknown) => caught);
    expect(isCouncilError(error, "MODEL_DOWNLOAD_OFFLINE")).toBe(true);
    expect((error as Error).message).toContain("node-llama-cpp pull");
  });
});

describe("resolveModelSource on damaged headers", () => {
  it("MODEL_INVALID for a GGUF whose header is truncated (llama.cpp would hang on it)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "council-source-"));
    const path = join(dir, "truncated.gguf");
    const header = Buffer.alloc(24);
    header.write("GGUF", 0, "ascii");
    header.writeUInt32LE(3, 4);
    header.writeBigUInt64LE(5n, 8); // five tensors
    header.writeBigUInt64LE(2n, 16); // two metadata entries, none present
    await writeFile(path, header);
    const error = await resolveModelSource({ source: path }).catch((caught: unknown) => caught);
    expect(isCouncilError(error, "MODEL_INVALID")).toBe(true);
    await rm(dir, { recursive: true, force: true });
  });
});
