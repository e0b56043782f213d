import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { CouncilError } from "../core/index.js";
import { DATASET_FILES } from "./datasets/index.js";

export const promptCompletionSchema = z.object({ prompt: z.string(), completion: z.string() }).passthrough();

export interface ResolvedDataset {
  /** What the user named (file or folder). */
  path: string;
  /** The prompt/completion JSONL the trainer reads. */
  file: string;
  /** Manifest sha256 for a dataset folder, file sha256 otherwise. */
  sha256: string;
  fileSha256: string;
  examples: number;
}

const manifestSchema = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }).passthrough();

/**
 * Finds and checks the training data: a prompt/completion JSONL, or a `council dataset build` folder.
 * Every line must be a JSON object with string `prompt` and non-empty string `completion`; the first bad
 * line fails with DATASET_INVALID naming it. (Token lengths are checked by the trainer, which has the tokenizer.)
 */
export async function resolveDataset(path: string): Promise<ResolvedDataset> {
  let info;
  try {
    info = await stat(path);
  } catch (cause) {
    throw new CouncilError("DATASET_INVALID", `Dataset ${path} does not exist.`, { cause, details: { path } });
  }
  let file = path;
  let manifestSha: string | undefined;
  if (info.isDirectory()) {
    file = join(path, DATASET_FILES.sftPromptCompletion);
    const manifestText = await readFile(join(path, DATASET_FILES.manifest), "utf8").catch(() => undefined);
    if (manifestText !== undefined) {
      let manifest: unknown;
      try {
        manifest = JSON.parse(manifestText);
      } catch (cause) {
        throw new CouncilError("DATASET_INVALID", `${join(path, DATASET_FILES.manifest)} is not valid JSON.`, { cause });
      }
      const parsed = manifestSchema.safeParse(manifest);
      if (!parsed.success) throw new CouncilError("DATASET_INVALID", `${join(path, DATASET_FILES.manifest)} has no sha256.`);
      manifestSha = parsed.data.sha256;
    }
  }
  let buffer: Buffer;
  try {
    buffer = await readFile(file);
  } catch (cause) {
    throw new CouncilError("DATASET_INVALID", `Cannot read dataset file ${file} (a folder must hold ${DATASET_FILES.sftPromptCompletion}).`, { cause, details: { path: file } });
  }
  const fileSha256 = createHash("sha256").update(buffer).digest("hex");
  const lines = buffer.toString("utf8").split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  if (lines.length === 0) throw new CouncilError("DATASET_INVALID", `Dataset ${file} is empty.`, { details: { path: file } });
  lines.forEach((raw, index) => {
    const line = raw.replace(/\r$/, "");
    const where = `${file}:${index + 1}`;
    if (line.trim() === "") throw new CouncilError("DATASET_INVALID", `${where}: empty line.`, { details: { path: file, line: index + 1 } });
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (cause) {
      throw new CouncilError("DATASET_INVALID", `${where}: not valid JSON.`, { cause, details: { path: file, line: index + 1 } });
    }
    const parsed = promptCompletionSchema.safeParse(value);
    if (!parsed.success) throw new CouncilError("DATASET_INVALID", `${where}: expected {"prompt": string, "completion": string}.`, { details: { path: file, line: index + 1 } });
    if (parsed.data.completion.trim() === "") throw new CouncilError("DATASET_INVALID", `${where}: completion is empty.`, { details: { path: file, line: index + 1 } });
  });
  return { path, file, sha256: manifestSha ?? fileSha256, fileSha256, examples: lines.length };
}
