import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { CouncilError, safeParseJson } from "../../core/index.js";
import { DATASET_FILES } from "./build-dataset.js";

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const count = z.number().int().nonnegative();

/**
 * The fields of a dataset folder's `manifest.json` that readers rely on (the full shape is {@link DatasetManifest}):
 * its identity and the SFT example count. The one schema every reader uses: the nightly graph, the trainer, the morning report.
 */
export const datasetManifestSchema = z.object({ sha256: sha256Hex, counts: z.object({ accepted: count, sft: count }).passthrough() }).passthrough();

/**
 * The one value a night hands from its dataset step to training (and on to the summary): built or read once,
 * carried in the graph state, so no later step reads the manifest again in a shape of its own.
 */
export interface NightlyDataset {
  /** The dataset folder (`council dataset build` layout). */
  dir: string;
  /** The manifest's sha256 (what training.json records as the dataset). */
  sha256: string;
  /** SFT examples: the count training epochs are sized by. */
  examples: number;
}

export const nightlyDatasetSchema = z.object({ dir: z.string().min(1), sha256: sha256Hex, examples: count });

/** The handoff value of a dataset folder from its manifest. */
export function nightlyDataset(dir: string, manifest: { sha256: string; counts: { sft: number } }): NightlyDataset {
  return nightlyDatasetSchema.parse({ dir, sha256: manifest.sha256, examples: manifest.counts.sft });
}

/** Reads `<dir>/manifest.json` once into the handoff value. DATASET_INVALID when it is missing, not JSON, or lacks sha256/counts. */
export async function readNightlyDataset(dir: string): Promise<NightlyDataset> {
  const path = join(dir, DATASET_FILES.manifest);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new CouncilError("DATASET_INVALID", `Cannot read the dataset manifest ${path}.`, { cause, details: { path } });
  }
  const parsed = safeParseJson(text, datasetManifestSchema, "DATASET_INVALID");
  if (!parsed.success) throw new CouncilError("DATASET_INVALID", `${path}: ${parsed.error.message}`, { cause: parsed.error, details: { path } });
  return nightlyDataset(dir, parsed.value);
}

/** Epochs for a night: at least `epochs`, enough for `minSteps` optimizer steps (one per example per epoch), at most `maxEpochs`. */
export function nightlyEpochs({ epochs, minSteps, maxEpochs }: { epochs: number; minSteps: number; maxEpochs: number }, examples: number): number {
  return Math.min(maxEpochs, Math.max(epochs, Math.ceil(minSteps / Math.max(1, examples))));
}
