import { createHash } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CouncilError } from "../core/index.js";
import type { ExampleRenderer } from "../models/index.js";
import { parseDatasetLine, type DatasetLine } from "./dataset-line.js";
import { DATASET_FILES, datasetManifestSchema } from "./datasets/index.js";

export interface ResolvedDataset {
  /** What the user named (file or folder). */
  path: string;
  /** The JSONL the user gave (prompt/completion text or conversational); see {@link renderConversations} for what the trainer reads. */
  file: string;
  /** Manifest sha256 for a dataset folder, file sha256 otherwise. */
  sha256: string;
  fileSha256: string;
  examples: number;
  /** Lines in a conversational format (they need a chat template before training). */
  conversations: number;
  /** Every line, parsed, in file order. */
  lines: DatasetLine[];
}

/** The trainer needs only the dataset identity from the manifest (the shared schema, sha256 alone). */
const manifestSchema = datasetManifestSchema.pick({ sha256: true }).passthrough();

/**
 * Finds and checks the training data: a JSONL, or a `council dataset build` folder.
 * Every line must be `{"prompt": string, "completion": string}` with a non-empty completion, or a TRL
 * conversational example (see {@link parseDatasetLine}); the first bad line fails with DATASET_INVALID naming it. (Token lengths are checked by the trainer, which has the tokenizer.)
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
  const parsedLines = lines.map((raw, index): DatasetLine => {
    const line = raw.replace(/\r$/, "");
    const where = `${file}:${index + 1}`;
    const details = { path: file, line: index + 1 };
    if (line.trim() === "") throw new CouncilError("DATASET_INVALID", `${where}: empty line.`, { details });
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (cause) {
      throw new CouncilError("DATASET_INVALID", `${where}: not valid JSON.`, { cause, details });
    }
    const parsed = parseDatasetLine(value);
    if (!parsed.success) throw new CouncilError("DATASET_INVALID", `${where}: ${parsed.error}`, { details });
    return parsed.value;
  });
  const conversations = parsedLines.filter((line) => line.kind === "conversation").length;
  return { path, file, sha256: manifestSha ?? fileSha256, fileSha256, examples: lines.length, conversations, lines: parsedLines };
}

/**
 * Writes the prompt/completion JSONL the trainer reads to `out`: text lines as they are, conversations rendered
 * with `render` (the base model's chat template, or the seedling's). A line the template cannot render fails
 * with DATASET_INVALID naming it. Returns the dataset with `file` pointing at `out`.
 */
export async function renderConversations({ dataset, render, out }: { dataset: ResolvedDataset; render: ExampleRenderer; out: string }): Promise<ResolvedDataset> {
  const rows = dataset.lines.map((line, index) => {
    if (line.kind === "text") return JSON.stringify({ prompt: line.prompt, completion: line.completion });
    try {
      return JSON.stringify(render(line.messages, line.answer));
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause);
      throw new CouncilError("DATASET_INVALID", `${dataset.file}:${index + 1}: the chat template cannot render this conversation: ${reason}`, { cause, details: { path: dataset.file, line: index + 1 } });
    }
  });
  await writeFile(out, rows.join("\n") + "\n");
  return { ...dataset, file: out };
}
