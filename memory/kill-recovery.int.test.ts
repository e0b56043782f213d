import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { FaissMemory } from "./faiss-memory.js";

const root = mkdtempSync(join(tmpdir(), "council-kill-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fixture = fileURLToPath(new URL("./fixtures/record-loop.ts", import.meta.url));
const KILLS = 24;

/** Runs the recorder, SIGKILLs it after `delayMs` of writing, returns what it acknowledged. */
function runAndKill(dir: string, first: number, delayMs: number): Promise<{ acked: number[]; flipped: number[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", fixture, dir, String(first)], { stdio: ["ignore", "pipe", "pipe"] });
    const acked: number[] = [];
    const flipped: number[] = [];
    let buffered = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line === "ready") setTimeout(() => child.kill("SIGKILL"), delayMs);
        else if (line.startsWith("ok ")) acked.push(Number(line.slice(3)));
        else if (line.startsWith("flip ")) flipped.push(Number(line.slice(5)));
      }
    });
    child.on("exit", (_code, signal) => {
      if (signal !== "SIGKILL") reject(new Error(`recorder exited without being killed: ${stderr}`));
      else resolve({ acked, flipped });
    });
  });
}

it(`memory always loads after kill -9 during writes (${KILLS} kills), losing at most the turn being written`, async () => {
  const dir = join(root, "memory");
  const acked = new Set<number>();
  const flipped = new Set<number>();
  let next = 0;
  let maxSeen = -1;
  for (let round = 0; round < KILLS; round++) {
    const result = await runAndKill(dir, next, 50 + Math.floor(Math.random() * 700));
    result.acked.forEach((i) => acked.add(i));
    result.flipped.forEach((i) => flipped.add(i));

    const memory = await FaissMemory.create({ dir });
    try {
      const turns = await memory.turns();
      const present = new Set(turns.map((t) => Number(t.traceId.slice(2))));
      for (const i of acked) expect(present.has(i), `acknowledged turn ${i} lost after kill ${round}`).toBe(true);
      // At most one turn beyond what was acknowledged: the one being written when the kill came.
      const unacked = [...present].filter((i) => !acked.has(i));
      expect(unacked.length).toBeLessThanOrEqual(1);
      for (const i of flipped) expect(turns.find((t) => t.traceId === `t-${i}`)?.success, `flip of ${i} lost`).toBe(false);
      expect(memory.counts().total).toBe(turns.length);
      expect(memory.indexStats.rows).toBe(turns.length);
      if (turns.length > 0) {
        const last = turns[turns.length - 1]!;
        const hits = await memory.search(last.question, { k: 5 });
        expect(hits.map((h) => h.record.traceId)).toContain(last.traceId);
      }
      maxSeen = Math.max(maxSeen, ...present);
      next = maxSeen + 1;
      unacked.forEach((i) => acked.add(i));
    } finally {
      await memory.dispose();
    }
  }
  expect(acked.size).toBeGreaterThan(KILLS);
});
