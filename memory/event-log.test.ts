import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isCouncilError } from "../core/index.js";
import { EventLog } from "./event-log.js";
import type { EventInput } from "./event-log-schema.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const DAY = 86_400_000;
const DAY1 = Date.parse("2026-12-01T10:00:00Z");

/** A log on a temp folder with a settable clock and counting ids. */
async function openLog({ retentionDays = 0, dir }: { retentionDays?: number; dir?: string } = {}) {
  const folder = dir ?? mkdtempSync(join(tmpdir(), "council-events-"));
  if (dir === undefined) dirs.push(folder);
  const clock = { now: DAY1 };
  let n = 0;
  const log = await EventLog.create({ dir: folder, retentionDays, now: () => clock.now, generateId: () => `e${++n}` });
  return { log, dir: folder, clock };
}

const turn = (user: string | null, traceId: string): EventInput => ({ actor: user ?? "anonymous", type: "turn-recorded", payload: { traceId, userId: user, question: `question of ${user}` } });

async function expectCorrupt(promise: Promise<unknown>, segment: string) {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(isCouncilError(error, "EVENT_LOG_CORRUPT"), String(error)).toBe(true);
  expect((error as { details: { segment: string } }).details.segment).toBe(segment);
}

describe("EventLog", () => {
  it("appends events with the injected id and time, one JSON line each, readable back in order", async () => {
    const { log, dir } = await openLog();
    const first = await log.append(turn("alice", "t1"));
    await log.append({ actor: "alice", type: "feedback-given", payload: { traceId: "t1", feedback: { rating: -1 } } });
    expect(first).toEqual({ id: "e1", time: DAY1, actor: "alice", type: "turn-recorded", payload: { traceId: "t1", userId: "alice", question: "question of alice" } });
    expect(readFileSync(join(dir, "2026-12-01.jsonl"), "utf8").trim().split("\n")).toHaveLength(2);
    expect((await log.events()).map((event) => [event.id, event.type])).toEqual([
      ["e1", "turn-recorded"],
      ["e2", "feedback-given"],
    ]);
  });

  it("rejects an event that does not match the schema before writing anything", async () => {
    const { log, dir } = await openLog();
    await expect(log.append({ actor: "", type: "turn-recorded", payload: {} })).rejects.toMatchObject({ code: "FRAME_INVALID" });
    expect(readdirSync(dir)).toEqual([]);
  });

  it("rolls to a new segment when the injected clock passes midnight, closing the old one with its checksum", async () => {
    const { log, dir, clock } = await openLog();
    await log.append(turn("alice", "t1"));
    await log.append(turn("bob", "t2"));
    clock.now += DAY;
    await log.append(turn("carol", "t3"));
    expect(readdirSync(dir).sort()).toEqual(["2026-12-01.jsonl", "2026-12-02.jsonl"]);
    const closed = readFileSync(join(dir, "2026-12-01.jsonl"), "utf8").trim().split("\n");
    expect(closed).toHaveLength(3);
    expect(JSON.parse(closed[2]!)).toMatchObject({ events: 2, checksum: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const segments = await log.segments();
    expect(segments.map((segment) => [segment.day, segment.closed, segment.events.length])).toEqual([
      ["2026-12-01", true, 2],
      ["2026-12-02", false, 1],
    ]);
  });

  it("closes a segment left open by a process that stopped before midnight, when the next one opens the log", async () => {
    const { log, dir, clock } = await openLog();
    await log.append(turn("alice", "t1"));
    await log.dispose();
    clock.now += 3 * DAY;
    const reopened = await EventLog.create({ dir, now: () => clock.now });
    expect((await reopened.segments()).map((segment) => segment.closed)).toEqual([true]);
  });

  it("reopens a segment that a process with a later clock closed, instead of writing after its checksum", async () => {
    const { log, dir, clock } = await openLog();
    await log.append(turn("alice", "t1"));
    // Another process whose clock says tomorrow opens the log: it closes today's segment.
    await EventLog.create({ dir, now: () => clock.now + DAY });
    expect((await log.segments())[0]!.closed).toBe(true);
    await log.append(turn("bob", "t2"));
    const [segment] = await log.segments();
    expect([segment!.closed, segment!.events.map((event) => event.payload.traceId)]).toEqual([false, ["t1", "t2"]]);
  });

  it("detects a checksum mismatch in a closed segment (an edited event) with a typed error naming it", async () => {
    const { log, dir, clock } = await openLog();
    await log.append(turn("alice", "t1"));
    clock.now += DAY;
    await log.append(turn("bob", "t2"));
    const path = join(dir, "2026-12-01.jsonl");
    writeFileSync(path, readFileSync(path, "utf8").replace("question of alice", "question of mallory"));
    await expectCorrupt(log.events(), "2026-12-01");
  });

  it("detects a truncated closed segment and a line that is not an event", async () => {
    const { log, dir, clock } = await openLog();
    await log.append(turn("alice", "t1"));
    await log.append(turn("alice", "t2"));
    clock.now += DAY;
    await log.append(turn("bob", "t3"));
    const path = join(dir, "2026-12-01.jsonl");
    const lines = readFileSync(path, "utf8").split("\n");
    writeFileSync(path, [lines[1], lines[2], ""].join("\n"));
    await expectCorrupt(log.events(), "2026-12-01");
    rmSync(path);
    appendFileSync(join(dir, "2026-12-02.jsonl"), '{"not":"an event"}\n');
    await expectCorrupt(log.events(), "2026-12-02");
  });

  it("skips an unterminated last line (an append a crash cut short) and drops it when the log is opened again", async () => {
    const { log, dir, clock } = await openLog();
    await log.append(turn("alice", "t1"));
    const path = join(dir, "2026-12-01.jsonl");
    appendFileSync(path, '{"id":"e9","time":1,"act');
    expect(await log.events()).toHaveLength(1);
    const reopened = await EventLog.create({ dir, now: () => clock.now, generateId: () => "e10" });
    await reopened.append(turn("bob", "t2"));
    expect((await reopened.events()).map((event) => event.id)).toEqual(["e1", "e10"]);
  });

  it("deletes closed segments past the retention when the day rolls, and keeps everything with retention 0", async () => {
    const { log, dir, clock } = await openLog({ retentionDays: 2 });
    for (let day = 0; day < 5; day++) {
      await log.append(turn("alice", `t${day}`));
      clock.now += DAY;
    }
    // Today is 2026-12-06: segments before 2026-12-04 are past a 2-day retention.
    await log.append(turn("alice", "t5"));
    expect(readdirSync(dir).sort()).toEqual(["2026-12-04.jsonl", "2026-12-05.jsonl", "2026-12-06.jsonl"]);
    const forever = await openLog();
    for (let day = 0; day < 5; day++) {
      await forever.log.append(turn("alice", `t${day}`));
      forever.clock.now += 10 * DAY;
    }
    await forever.log.append(turn("alice", "last"));
    expect(readdirSync(forever.dir)).toHaveLength(6);
  });

  it("erases a user's events, and events about their turns, from closed and open segments with new checksums", async () => {
    const { log, dir, clock } = await openLog();
    await log.append(turn("alice", "t1"));
    await log.append(turn("bob", "t2"));
    await log.append({ actor: "nightly", type: "vote-cast", payload: { runId: "r1", itemId: "i1", traceIds: ["t1"], question: "question of alice" } });
    await log.append({ actor: "nightly", type: "vote-cast", payload: { runId: "r1", itemId: "i2", traceIds: ["t2"] } });
    clock.now += DAY;
    await log.append({ actor: "alice", type: "correction-given", payload: { traceId: "t1", userId: "alice", feedback: { rating: -1, correction: "alice's fix" } } });
    await log.append({ actor: "admin", type: "review-decided", payload: { traceIds: ["t1"], choice: "accept" } });
    await log.append(turn("bob", "t3"));

    const report = await log.eraseUser({ userId: "alice", actor: "admin" });
    expect(report).toEqual({ removed: 4, segments: ["2026-12-01", "2026-12-02"] });
    const events = await log.events();
    expect(events.map((event) => event.type)).toEqual(["turn-recorded", "vote-cast", "turn-recorded", "user-erased"]);
    expect(events.at(-1)).toMatchObject({ actor: "admin", payload: { removed: 4, userHash: expect.stringMatching(/^[0-9a-f]{16}$/) } });
    for (const name of readdirSync(dir)) expect(readFileSync(join(dir, name), "utf8")).not.toMatch(/alice/);
    expect((await log.segments())[0]!.closed).toBe(true);
    expect(existsSync(join(dir, `2026-12-01.jsonl.tmp-${process.pid}`))).toBe(false);
  });
});
