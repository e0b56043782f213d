import { chmod, mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../core/index.js";
import { readGguf, readTensorF32, writeGguf, type GgufKv } from "../gguf/index.js";
import { ensureSeedling, seedlingReportPath, type SeedlingRecipe } from "./index.js";

/**
 * A fake llama-finetune: copies -m to -o and prints llama-finetune's progress format. Evaluation runs
 * (-lr 0) report loss 6 for the untrained init model and 3 otherwise. `FAIL` in the recipe seed path fails.
 */
const FAKE_TRAINER = `#!/bin/sh
model=""; out=""; lr=""; epochs=1
while [ $# -gt 0 ]; do
  case "$1" in
    -m) model="$2"; shift;;
    -o) out="$2"; shift;;
    -lr) lr="$2"; shift;;
    -epochs) epochs="$2"; shift;;
  esac
  shift
done
[ -f "$(dirname "$0")/fail" ] && { echo "error: out of memory" >&2; exit 3; }
cp "$model" "$out"
if [ "$lr" = "0" ]; then
  case "$model" in *init.gguf) loss=6.00000;; *) loss=3.00000;; esac
  printf 'val:   [#] data=0000004/0000004 loss=%s+-0.1 acc=1.00+-0.10%% t=00:00:00 ETA=00:00:00 \\r\\n' "$loss" >&2
  exit 0
fi
i=1
while [ $i -le $epochs ]; do
  printf 'train: [#] data=0000010/0000010 loss=5.%s0000+-0.1 acc=1.00+-0.10%% t=00:00:00 ETA=00:00:00 \\r\\n' "$i" >&2
  printf 'val:   [#] data=0000001/0000001 loss=4.%s0000+-0.1 acc=1.00+-0.10%% t=00:00:00 ETA=00:00:00 \\r\\n' "$i" >&2
  i=$((i+1))
done
`;

const RECIPE: Partial<SeedlingRecipe> = { vocabPieces: 120, epochs: 2, shape: { embedding: 32, layers: 1, heads: 2, feedForward: 64, contextLength: 256 } };

describe("ensureSeedling (with a fake trainer)", () => {
  let dir: string;
  let binary: string;
  let cacheDir: string;
  let out: string;
  const corpusDir = join(PROJECT_ROOT, "kb");

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "council-seedling-"));
    binary = join(dir, "llama-finetune");
    await writeFile(binary, FAKE_TRAINER);
    await chmod(binary, 0o755);
    cacheDir = join(dir, "cache");
    out = join(dir, "models", "seedling.gguf");
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const ensure = (extra: Partial<Parameters<typeof ensureSeedling>[0]> = {}) => ensureSeedling({ out, corpusDir, cacheDir, binary, recipe: RECIPE, ...extra });

  it("builds, reports val loss and provenance, and fills the cache", async () => {
    const lines: string[] = [];
    const result = await ensure({ onProgress: (line) => lines.push(line) });
    expect(result.source).toBe("built");
    expect(result.report?.validationLoss).toEqual({ before: 6, after: 3 });
    expect(result.report?.epochs.map((epoch) => epoch.validationLoss)).toEqual([4.1, 4.2]);
    expect(lines.some((line) => line.startsWith("epoch 2/2"))).toBe(true);
    const file = readGguf(out);
    expect(file.metadata.get("council.seedling.key")).toBe(result.key);
    expect(file.metadata.get("llama.context_length")).toBe(256);
    expect(file.metadata.get("tokenizer.ggml.model")).toBe("llama");
    const report = JSON.parse(await readFile(seedlingReportPath(out), "utf8")) as { key: string; recipe: SeedlingRecipe; corpus: { sha256: string } };
    expect(report.key).toBe(result.key);
    expect(report.recipe.shape.embedding).toBe(32);
    expect(existsSync(join(cacheDir, `seedling-${result.key}.gguf`))).toBe(true);
    expect(existsSync(join(cacheDir, `seedling-${result.key}.json`))).toBe(true);
  });

  it("keeps an up-to-date output, and copies from the cache when the output is gone", async () => {
    expect((await ensure()).source).toBe("existing");
    const before = await readFile(out);
    await rm(out);
    const result = await ensure();
    expect(result.source).toBe("cache");
    expect((await readFile(out)).equals(before)).toBe(true);
  });

  it("refuses a corrupt output (MODEL_INVALID) and rebuilds it with force", async () => {
    const size = (await readFile(out)).length;
    await truncate(out, size - 100);
    await expect(ensure()).rejects.toMatchObject({ code: "MODEL_INVALID" });
    await expect(ensure({ ifMissing: true })).rejects.toMatchObject({ code: "MODEL_INVALID" });
    expect((await ensure({ force: true })).source).toBe("built");
  });

  it("discards a corrupt cache entry and rebuilds", async () => {
    const { key } = await ensure();
    const cached = join(cacheDir, `seedling-${key}.gguf`);
    const bytes = await readFile(cached);
    bytes[bytes.length - 5] = (bytes[bytes.length - 5] ?? 0) ^ 0xff;
    await writeFile(cached, bytes);
    await rm(out);
    const lines: string[] = [];
    const result = await ensure({ onProgress: (line) => lines.push(line) });
    expect(result.source).toBe("built");
    expect(lines.some((line) => line.includes("discarding corrupt cache entry"))).toBe(true);
    expect((await ensure()).source).toBe("existing");
  });

  it("rebuilds when the recipe changes, unless --if-missing", async () => {
    const changed = { ...RECIPE, seed: 99 };
    expect((await ensure({ recipe: changed, ifMissing: true })).source).toBe("existing");
    const result = await ensure({ recipe: changed });
    expect(result.source).toBe("built");
    expect(readGguf(out).metadata.get("council.seedling.key")).toBe(result.key);
  });

  it("reports a failing trainer as TRAINING_FAILED and leaves the output untouched", async () => {
    const before = await readFile(out);
    await writeFile(join(dir, "fail"), "");
    try {
      await expect(ensure({ force: true })).rejects.toMatchObject({ code: "TRAINING_FAILED" });
    } finally {
      await rm(join(dir, "fail"));
    }
    expect((await readFile(out)).equals(before)).toBe(true);
    await expect(ensure({ force: true, binary: join(dir, "missing") })).rejects.toMatchObject({ code: "NATIVE_MISSING" });
  });

  it("keeps the committed reading seedling (key reading-…) instead of rebuilding it with the quick recipe, and refuses it when its bytes no longer match its report", async () => {
    const readingDir = join(dir, "reading");
    const readingOut = join(readingDir, "seedling.gguf");
    // Any valid GGUF stands in for the reading seedling: build one with the quick recipe, then give it a reading key.
    const built = join(readingDir, "built.gguf");
    await ensureSeedling({ out: built, corpusDir, recipe: RECIPE, binary, threads: 1 });
    const file = readGguf(built);
    const kv = file.kv.map((entry): GgufKv => (entry.key === "council.seedling.key" ? { key: entry.key, type: "string", value: "reading-0123456789abcdef" } : entry));
    await writeGguf({ path: readingOut, kv, tensors: file.tensors.map((tensor) => ({ name: tensor.name, dims: tensor.dims, data: () => readTensorF32(file, tensor.name) })) });
    const { createHash } = await import("node:crypto");
    const sha = createHash("sha256").update(await readFile(readingOut)).digest("hex");
    await writeFile(seedlingReportPath(readingOut), JSON.stringify({ name: "council-seedling", key: "reading-0123456789abcdef", sha256: sha }));
    // Another quick recipe would rebuild any other file; the reading seedling is kept.
    const kept = await ensureSeedling({ out: readingOut, corpusDir, recipe: { ...RECIPE, epochs: 3 }, binary, threads: 1 });
    expect(kept.source).toBe("existing");
    expect(kept.key).toBe("reading-0123456789abcdef");
    expect(createHash("sha256").update(await readFile(readingOut)).digest("hex")).toBe(sha);
    await writeFile(readingOut, Buffer.concat([await readFile(readingOut), Buffer.from("tampered")]));
    await expect(ensureSeedling({ out: readingOut, corpusDir, recipe: RECIPE, binary, threads: 1, ifMissing: true })).rejects.toMatchObject({ code: "MODEL_INVALID" });
  });
});
