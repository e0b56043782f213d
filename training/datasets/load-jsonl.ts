import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { z, type ZodType } from "zod";
import { CouncilError } from "../../core/index.js";
import { safeParseJson } from "../../core/index.js";
import type { AcceptedExample } from "./build-dataset.js";

/** Reads a JSONL file, validating every non-blank line; the error names the file and line. */
export async function readJsonl<T>(path: string, schema: ZodType<T>): Promise<T[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new CouncilError("DATASET_INVALID", `Cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  const rows: T[] = [];
  const lines = text.split("\n");
  for (const [index, line] of lines.entries()) {
    if (line.trim() === "") continue;
    const parsed = safeParseJson(line, schema, "DATASET_INVALID");
    if (!parsed.success) throw new CouncilError("DATASET_INVALID", `${path}:${index + 1}: ${parsed.error.message}`, { cause: parsed.error });
    rows.push(parsed.value);
  }
  return rows;
}

/** Eval item format shared with `council bench improve`: extra fields are ignored. */
export const evalItemSchema = z.object({ id: z.union([z.string(), z.number()]).transform(String), question: z.string().min(1), accept: z.array(z.string()).optional(), reject: z.array(z.string()).optional() });
export type EvalFileItem = z.output<typeof evalItemSchema>;

export async function loadEvalSet(path: string): Promise<{ name: string; items: EvalFileItem[] }> {
  const items: EvalFileItem[] = await readJsonl<EvalFileItem>(path, evalItemSchema as unknown as ZodType<EvalFileItem>);
  return { name: basename(path).replace(/\.jsonl$/, ""), items };
}

const messageSchema = z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() });

export const acceptedExampleSchema: ZodType<AcceptedExample> = z.object({
  id: z.string().min(1),
  traceIds: z.array(z.string()).default([]),
  userId: z.string().min(1),
  createdAt: z.number(),
  question: z.string(),
  messages: z.array(messageSchema).min(1),
  chosen: z.string(),
  rejected: z.string().optional(),
}) as ZodType<AcceptedExample>;
