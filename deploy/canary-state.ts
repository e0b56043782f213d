import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { CouncilError, safeParseJson } from "../core/index.js";
import { writeFileAtomic } from "./atomic-files.js";

/**
 * `loras/canary.json`: the live canary, shared by the process that runs the controller (server, `nightly`,
 * `deploy`) and every server that routes traffic (it watches the file). Written atomically.
 */
export const canaryStateSchema = z.object({
  /** The canary version. */
  version: z.string(),
  /** The stable version (what `current` pointed to when the canary started; null = base model). */
  stable: z.string().nullable(),
  /** Share of traffic (0-100) routed to the canary. 0 = all traffic on stable. */
  weight: z.number().min(0).max(100),
  step: z.number().int().min(0),
  status: z.enum(["running", "promoted", "rolled-back"]),
  startedAt: z.string(),
  updatedAt: z.string(),
  reason: z.string().nullable(),
});
export type CanaryState = z.infer<typeof canaryStateSchema>;

export const canaryStatePath = (loras: string) => join(loras, "canary.json");

export async function readCanaryState(loras: string): Promise<CanaryState | null> {
  let text: string;
  try {
    text = await readFile(canaryStatePath(loras), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  const parsed = safeParseJson(text, canaryStateSchema, "ADAPTER_INVALID");
  if (!parsed.success) throw new CouncilError("ADAPTER_INVALID", `${canaryStatePath(loras)} is corrupt: ${parsed.error.message}`, { cause: parsed.error });
  return parsed.value;
}

export function writeCanaryState(loras: string, state: CanaryState): Promise<void> {
  return writeFileAtomic({ path: canaryStatePath(loras), data: JSON.stringify(canaryStateSchema.parse(state), null, 2) + "\n" });
}
