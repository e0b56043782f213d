import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error -- plain ESM setup script without types
import { binariesMatch } from "./llama-cpp.mjs";
// @ts-expect-error -- plain ESM setup script without types
import { sha256File } from "./util.mjs";

describe("setup: llama.cpp binaries are up to date only when they are the files the manifest recorded", () => {
  let bin: string;
  beforeAll(async () => {
    bin = await mkdtemp(join(tmpdir(), "council-setup-bin-"));
    await writeFile(join(bin, "council-lora-train"), "trainer v2");
    await chmod(join(bin, "council-lora-train"), 0o755);
  });
  afterAll(async () => {
    await rm(bin, { recursive: true, force: true });
  });

  it("accepts recorded binaries and rejects a replaced, missing or non-executable one", async () => {
    const paths = { bin };
    const manifest = { targets: { "council-lora-train": { sha256: sha256File(join(bin, "council-lora-train")) } } };
    expect(binariesMatch(paths, ["council-lora-train"], manifest)).toBe(true);
    expect(binariesMatch(paths, ["council-lora-train", "llama-server"], manifest)).toBe(false);
    expect(binariesMatch(paths, ["council-lora-train"], { targets: {} })).toBe(false);
    expect(binariesMatch(paths, ["council-lora-train"], undefined)).toBe(false);
    // a hand-made rebuild (here: other bytes) is not what the manifest's cache key describes
    await writeFile(join(bin, "council-lora-train"), "trainer v1");
    expect(binariesMatch(paths, ["council-lora-train"], manifest)).toBe(false);
    await writeFile(join(bin, "council-lora-train"), "trainer v2");
    await chmod(join(bin, "council-lora-train"), 0o644);
    expect(binariesMatch(paths, ["council-lora-train"], manifest)).toBe(false);
  });
});
