import { existsSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { safeParseJson } from "../../core/index.js";
import { acceptedExampleSchema, type AcceptedExample } from "../../training/datasets/index.js";

const stateSchema = z.object({ lastUntil: z.number(), activeRunId: z.string().nullable() });
export type ImproveState = z.infer<typeof stateSchema>;

const acceptedLineSchema = z.object({ runId: z.string(), example: acceptedExampleSchema });

/**
 * Durable bookkeeping of the nightly loop under `<dataDir>/data/improve/`: the harvest window, the run in
 * progress, and every accepted example of every night (training is cumulative: each adapter is trained on the
 * whole accepted set, so it keeps every earlier night's fixes).
 */
export class ImproveStore {
  readonly dir: string;

  constructor({ dir }: { dir: string }) {
    this.dir = dir;
  }

  get #statePath() {
    return join(this.dir, "state.json");
  }

  get #acceptedDir() {
    return join(this.dir, "accepted");
  }

  async state(): Promise<ImproveState> {
    if (!existsSync(this.#statePath)) return { lastUntil: 0, activeRunId: null };
    const parsed = safeParseJson(await readFile(this.#statePath, "utf8"), stateSchema, "MEMORY_CORRUPT");
    if (!parsed.success) throw parsed.error;
    return parsed.value;
  }

  async saveState(state: ImproveState): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const temp = `${this.#statePath}.tmp-${process.pid}`;
    await writeFile(temp, JSON.stringify(state));
    const handle = await open(temp, "r+");
    await handle.sync();
    await handle.close();
    await rename(temp, this.#statePath);
  }

  /** Every accepted example of every completed dataset step, oldest run first. */
  async accepted(): Promise<Array<{ runId: string; example: AcceptedExample }>> {
    if (!existsSync(this.#acceptedDir)) return [];
    const rows = [];
    for (const name of (await readdir(this.#acceptedDir)).filter((n) => n.endsWith(".jsonl")).sort()) {
      for (const line of (await readFile(join(this.#acceptedDir, name), "utf8")).split("\n")) {
        if (line.trim() === "") continue;
        const parsed = safeParseJson(line, acceptedLineSchema, "MEMORY_CORRUPT");
        if (!parsed.success) throw parsed.error;
        rows.push(parsed.value);
      }
    }
    return rows;
  }

  /**
   * Removes a user's accepted examples from every night's file (temp + fsync + rename), so no future dataset
   * trains on them. Returns how many were removed.
   */
  async eraseUser(userId: string): Promise<number> {
    if (!existsSync(this.#acceptedDir)) return 0;
    let removed = 0;
    for (const name of (await readdir(this.#acceptedDir)).filter((n) => n.endsWith(".jsonl"))) {
      const path = join(this.#acceptedDir, name);
      const lines = (await readFile(path, "utf8")).split("\n").filter((line) => line.trim() !== "");
      const keep = lines.filter((line) => {
        const parsed = safeParseJson(line, acceptedLineSchema, "MEMORY_CORRUPT");
        if (!parsed.success) throw parsed.error;
        return parsed.value.example.userId !== userId;
      });
      if (keep.length === lines.length) continue;
      removed += lines.length - keep.length;
      await writeDurably(path, keep.map((line) => line + "\n").join(""));
    }
    return removed;
  }

  /** Writes a run's examples once, atomically (temp + fsync + rename): re-running the step changes nothing. */
  async appendAccepted(runId: string, examples: readonly AcceptedExample[]): Promise<void> {
    const path = join(this.#acceptedDir, `${runId}.jsonl`);
    if (existsSync(path)) return;
    await mkdir(this.#acceptedDir, { recursive: true });
    await writeDurably(path, examples.map((example) => JSON.stringify({ runId, example }) + "\n").join(""));
  }
}

async function writeDurably(path: string, text: string): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, text);
  const handle = await open(temp, "r+");
  await handle.sync();
  await handle.close();
  await rename(temp, path);
}
