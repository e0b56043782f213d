import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildDataset } from "./build-dataset.js";
import { nightlyEpochs, readNightlyDataset } from "./nightly-dataset.js";

const dirs: string[] = [];
const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), "council-nightly-dataset-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const example = (id: string, question: string, chosen: string) => ({
  id,
  traceIds: [`t-${id}`],
  userId: `u-${id}`,
  createdAt: 1_000,
  question,
  messages: [{ role: "user" as const, content: question }],
  chosen,
});

describe("the nightly dataset handoff", () => {
  it("reads what buildDataset wrote into one value: folder, manifest sha256, SFT example count", async () => {
    const outDir = join(scratch(), "dataset");
    const manifest = await buildDataset({
      accepted: [example("a", "how do I list files", "Use ls -la."), example("b", "how do I extract a tar", "Use tar -xf archive.tar.")],
      evalSets: [],
      outDir,
      maxPerUserPerDay: 50,
      maxUserShare: 1,
    });
    expect(await readNightlyDataset(outDir)).toEqual({ dir: outDir, sha256: manifest.sha256, examples: 2 });
  });

  it("refuses a missing, non-JSON or incomplete manifest with DATASET_INVALID", async () => {
    const dir = scratch();
    await expect(readNightlyDataset(dir)).rejects.toMatchObject({ code: "DATASET_INVALID" });
    writeFileSync(join(dir, "manifest.json"), "{not json");
    await expect(readNightlyDataset(dir)).rejects.toMatchObject({ code: "DATASET_INVALID" });
    writeFileSync(join(dir, "manifest.json"), JSON.stringify({ sha256: "ab".repeat(32), counts: { accepted: 1 } }));
    await expect(readNightlyDataset(dir)).rejects.toThrow(/counts\.sft/);
  });

  it("sizes a night's epochs by its example count, between epochs and maxEpochs", () => {
    const training = { epochs: 8, minSteps: 1200, maxEpochs: 200 };
    expect(nightlyEpochs(training, 2)).toBe(200);
    expect(nightlyEpochs(training, 20)).toBe(60);
    expect(nightlyEpochs(training, 1000)).toBe(8);
    expect(nightlyEpochs(training, 0)).toBe(200);
  });
});
