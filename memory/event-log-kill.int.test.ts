import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { EventLog } from "./event-log.js";
import { FaissMemory } from "./faiss-memory.js";

const root = mkdtempSync(join(tmpdir(), "council-event-kill-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fixture = fileURLToPath(new URL("./fixtures/event-turn-loop.ts", import.meta.url));
const KILLS = 12;
/** Before the fixture's first day: opening the log to read it closes none of the child's segments. */
const READER_NOW = () => Date.parse("2026-11-30T00:00:00Z");

/** Runs the turn loop, SIGKILLs it `delayMs` after it is ready, returns the writes it acknowledged. */
function runAndKill(dir: string, first: number, delayMs: number): Promise<{ turns: number[]; feedback: number[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", fixture, dir, String(first)], { stdio: ["ignore", "pipe", "pipe"] });
    const turns: number[] = [];
    const feedback: number[] = [];
    let buffered = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line === "ready") setTimeout(() => child.kill("SIGKILL"), delayMs);
        else if (line.startsWith("ok ")) turns.push(Number(line.slice(3)));
        else if (line.startsWith("fb ")) feedback.push(Number(line.slice(3)));
      }
    });
    child.on("exit", (_code, signal) => {
      if (signal !== "SIGKILL") reject(new Error(`the turn loop exited without being killed: ${stderr}`));
      else resolve({ turns, feedback });
    });
  });
}

it(`kill -9 during turns loses no acknowledged event, and every segment still verifies (${KILLS} kills)`, async () => {
  const ackedTurns = new Set<number>();
  const ackedFeedback = new Set<number>();
  let next = 0;
  for (let round = 0; round < KILLS; round++) {
    const result = await runAndKill(root, next, 100 + Math.floor(Math.random() * 900));
    result.turns.forEach((i) => ackedTurns.add(i));
    result.feedback.forEach((i) => ackedFeedback.add(i));

    // Reading verifies every closed segment's checksum and every line; a torn last line is skipped.
    const events = await (await EventLog.create({ dir: join(root, "events"), now: READER_NOW })).events();
    const logged = new Set(events.filter((event) => event.type === "turn-recorded").map((event) => Number(String(event.payload.traceId).slice(2))));
    const corrected = new Set(events.filter((event) => event.type === "correction-given").map((event) => Number(String(event.payload.traceId).slice(2))));
    for (const i of ackedTurns) expect(logged.has(i), `acknowledged turn ${i} missing from the log after kill ${round}`).toBe(true);
    for (const i of ackedFeedback) expect(corrected.has(i), `acknowledged correction on ${i} missing after kill ${round}`).toBe(true);
    // At most the one write in flight is in the log without having been acknowledged.
    expect([...logged].filter((i) => !ackedTurns.has(i)).length).toBeLessThanOrEqual(1);
    expect(new Set(events.map((event) => event.id)).size).toBe(events.length);
    // A turn memory took but the log did not (killed in between) was never acknowledged: the next child starts after it.
    const memory = await FaissMemory.create({ dir: join(root, "memory") });
    const stored = (await memory.turns()).map((turn) => Number(turn.traceId.slice(2)));
    await memory.dispose();
    logged.forEach((i) => ackedTurns.add(i));
    corrected.forEach((i) => ackedFeedback.add(i));
    next = Math.max(-1, ...logged, ...stored) + 1;
  }
  expect(ackedTurns.size).toBeGreaterThan(KILLS);

  // Every turn the log holds is in memory (memory takes the write first), and the day roll closed segments.
  const log = await EventLog.create({ dir: join(root, "events"), now: READER_NOW });
  const segments = await log.segments();
  expect(segments.length).toBeGreaterThan(1);
  expect(segments.slice(0, -2).every((segment) => segment.closed)).toBe(true);
  const memory = await FaissMemory.create({ dir: join(root, "memory") });
  try {
    const inMemory = new Set((await memory.turns()).map((turn) => turn.traceId));
    const inLog = segments.flatMap((segment) => segment.events).filter((event) => event.type === "turn-recorded");
    expect(inLog.filter((event) => !inMemory.has(String(event.payload.traceId)))).toEqual([]);
  } finally {
    await memory.dispose();
  }
});
