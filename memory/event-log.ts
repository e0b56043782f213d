import { createHash, randomUUID } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { open, readdir, readFile, rename, rm, truncate, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { CouncilError, silentLogger, type Logger } from "../core/index.js";
import { councilEventSchema, segmentChecksumSchema, type CouncilEvent, type EventInput, type EventSink } from "./event-log-schema.js";

const SEGMENT_NAME = /^(\d{4}-\d{2}-\d{2})\.jsonl$/;
const DAY_MS = 86_400_000;

/** The UTC day (`YYYY-MM-DD`) a time belongs to: the name of its segment. */
export const segmentDay = (time: number): string => new Date(time).toISOString().slice(0, 10);

export interface EventLogOptions {
  /** Folder of the segments (`<dataDir>/events`). Created if missing. */
  dir: string;
  /** Closed segments older than this many days are deleted when a day rolls over. 0 keeps them forever. @default 0 */
  retentionDays?: number;
  /** Unix ms. @default Date.now */
  now?: () => number;
  /** @default crypto.randomUUID */
  generateId?: () => string;
  /** @default silentLogger */
  logger?: Logger;
}

export interface EventSegment {
  day: string;
  path: string;
  /** A closed segment ends with its checksum record (every segment before today's is closed when the day rolls). */
  closed: boolean;
  events: CouncilEvent[];
  /** Complete event lines, byte for byte (erasure rewrites from them). */
  lines: string[];
}

export interface EraseReport {
  removed: number;
  segments: string[];
}

/**
 * The append-only event log: one JSONL segment per UTC day under `dir`, each event fsynced before `append`
 * resolves (so acknowledge an action only after it). When the day rolls, earlier segments are closed with a
 * last line `{"checksum": sha256 of the bytes before it, "events": n}`; reading verifies it and throws
 * `EVENT_LOG_CORRUPT` on a mismatch or on a line that is not an event. An unterminated last line of an open
 * segment is an append cut short by a crash (never acknowledged): readers skip it and the next open drops it.
 * Appends within a process are serialised; across processes each event is one `write` to an O_APPEND file.
 */
export class EventLog implements EventSink {
  readonly dir: string;
  readonly #retentionDays: number;
  readonly #now: () => number;
  readonly #generateId: () => string;
  readonly #logger: Logger;
  #queue: Promise<unknown> = Promise.resolve();
  /** The day whose earlier segments are known closed. */
  #housekept: string | null = null;

  private constructor(options: EventLogOptions) {
    this.dir = options.dir;
    this.#retentionDays = options.retentionDays ?? 0;
    this.#now = options.now ?? Date.now;
    this.#generateId = options.generateId ?? randomUUID;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Opens the log: drops torn tails, closes earlier days' segments, applies the retention. The folder is made on the first append. */
  static async create(options: EventLogOptions): Promise<EventLog> {
    const log = new EventLog(options);
    await log.#serial(() => log.#housekeep(segmentDay(log.#now())));
    return log;
  }

  /** Appends one event and resolves once it is fsynced. */
  append(input: EventInput): Promise<CouncilEvent> {
    return this.#serial(() => this.#appendNow(input));
  }

  /** Every segment, oldest first, verified. Throws EVENT_LOG_CORRUPT. */
  async segments(): Promise<EventSegment[]> {
    const out: EventSegment[] = [];
    for (const day of await this.#days()) out.push(await this.#readSegment(day));
    return out;
  }

  /** Every event, oldest first, verified. Throws EVENT_LOG_CORRUPT. */
  async events(): Promise<CouncilEvent[]> {
    return (await this.segments()).flatMap((segment) => segment.events);
  }

  /**
   * Removes a user's events from every segment (rewritten atomically, closed ones with a new checksum): events
   * they acted in, events whose payload names them (`userId`), and events about their turns (`traceId` or
   * `traceIds` of a turn they asked). Then records `user-erased` with a hash of the id, not the id.
   */
  eraseUser({ userId, actor }: { userId: string; actor: string }): Promise<EraseReport> {
    return this.#serial(async () => {
      const segments = await this.segments();
      const traces = new Set<string>();
      for (const event of segments.flatMap((segment) => segment.events)) {
        if (event.type === "turn-recorded" && (event.payload.userId === userId || event.actor === userId) && typeof event.payload.traceId === "string") traces.add(event.payload.traceId);
      }
      const concerns = (event: CouncilEvent) => {
        if (event.actor === userId || event.payload.userId === userId) return true;
        if (typeof event.payload.traceId === "string" && traces.has(event.payload.traceId)) return true;
        return Array.isArray(event.payload.traceIds) && event.payload.traceIds.some((id) => typeof id === "string" && traces.has(id));
      };
      const report: EraseReport = { removed: 0, segments: [] };
      for (const segment of segments) {
        const keep = segment.lines.filter((_line, index) => !concerns(segment.events[index]!));
        if (keep.length === segment.lines.length) continue;
        report.removed += segment.lines.length - keep.length;
        report.segments.push(segment.day);
        await this.#rewrite(segment, keep);
      }
      const userHash = createHash("sha256").update(userId).digest("hex").slice(0, 16);
      await this.#appendNow({ actor, type: "user-erased", payload: { userHash, removed: report.removed, segments: report.segments } });
      this.#logger.info({ userHash, removed: report.removed }, "event log: user erased");
      return report;
    });
  }

  /** Deletes closed segments older than the retention. Returns the days deleted. */
  prune(): Promise<string[]> {
    return this.#serial(() => this.#prune());
  }

  /** Waits for pending appends. */
  async dispose(): Promise<void> {
    await this.#queue.catch(() => undefined);
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #appendNow(input: EventInput): Promise<CouncilEvent> {
    const parsed = councilEventSchema.safeParse({ id: this.#generateId(), time: this.#now(), ...input });
    if (!parsed.success) throw new CouncilError("FRAME_INVALID", `Invalid event: ${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}`);
    const event = parsed.data;
    let day = segmentDay(event.time);
    if (day !== this.#housekept) await this.#housekeep(day);
    // A clock that went back must not append after a closed segment's checksum: the newest segment is open.
    const newest = (await this.#days()).at(-1);
    if (newest !== undefined && newest > day) day = newest;
    const path = this.#path(day);
    const created = !existsSync(path);
    if (created) {
      try {
        mkdirSync(this.dir, { recursive: true });
      } catch (cause) {
        throw new CouncilError("CONFIG_INVALID", `Event log folder ${this.dir} cannot be created: ${(cause as Error).message}`, { cause });
      }
    }
    const handle = await open(path, "a+");
    try {
      // Another process whose clock is ahead closed this day: reopen it rather than write after its checksum.
      if (!created && (await endsWithChecksum(handle))) {
        const segment = await this.#readSegment(day);
        await this.#rewrite(segment, segment.lines, { close: false });
        this.#logger.warn({ segment: day }, "event log: reopened a segment another process closed (clocks disagree)");
        return await this.#appendNow(input);
      }
      await handle.write(JSON.stringify(event) + "\n");
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (created) await syncDir(this.dir);
    return event;
  }

  /** Drops torn tails, closes every open segment before `today`, applies the retention. */
  async #housekeep(today: string): Promise<void> {
    for (const day of await this.#days()) {
      const path = this.#path(day);
      const text = await readFile(path, "utf8");
      if (text.length > 0 && !text.endsWith("\n")) {
        const keep = Buffer.byteLength(text.slice(0, text.lastIndexOf("\n") + 1));
        await truncate(path, keep);
        this.#logger.warn({ segment: day }, "event log: dropped an unterminated last line (an append cut short by a crash)");
      }
      if (day >= today) continue;
      const segment = await this.#readSegment(day);
      if (!segment.closed) await this.#rewrite(segment, segment.lines, { close: true });
    }
    await this.#prune(today);
    this.#housekept = today;
  }

  async #prune(today = segmentDay(this.#now())): Promise<string[]> {
    if (this.#retentionDays === 0) return [];
    const oldest = segmentDay(Date.parse(`${today}T00:00:00Z`) - this.#retentionDays * DAY_MS);
    const removed: string[] = [];
    for (const day of await this.#days()) {
      if (day >= oldest || day >= today) continue;
      if (!(await this.#readSegment(day)).closed) continue;
      await rm(this.#path(day));
      removed.push(day);
    }
    if (removed.length > 0) this.#logger.info({ removed }, "event log: segments past retention deleted");
    return removed;
  }

  /** Writes a segment's lines (plus a checksum when it is closed or being closed) to a temp file, fsyncs, renames. */
  async #rewrite(segment: EventSegment, lines: string[], { close = segment.closed }: { close?: boolean } = {}): Promise<void> {
    const body = lines.map((line) => line + "\n").join("");
    const text = close ? body + JSON.stringify({ checksum: sha256(body), events: lines.length }) + "\n" : body;
    const temp = `${segment.path}.tmp-${process.pid}`;
    const handle = await open(temp, "w");
    try {
      await handle.write(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, segment.path);
    await syncDir(this.dir);
  }

  async #readSegment(day: string): Promise<EventSegment> {
    const path = this.#path(day);
    return { day, path, ...parseSegment(await readFile(path, "utf8"), day) };
  }

  async #days(): Promise<string[]> {
    if (!existsSync(this.dir)) return [];
    return (await readdir(this.dir))
      .map((name) => SEGMENT_NAME.exec(name)?.[1])
      .filter((day): day is string => day !== undefined)
      .sort();
  }

  #path(day: string): string {
    return join(this.dir, `${day}.jsonl`);
  }
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** Parses one segment's text. Throws EVENT_LOG_CORRUPT naming the segment and line. */
export function parseSegment(text: string, day: string): Pick<EventSegment, "closed" | "events" | "lines"> {
  const corrupt = (line: number, why: string) => new CouncilError("EVENT_LOG_CORRUPT", `Event log segment ${day}.jsonl, line ${line}: ${why}`, { details: { segment: day, line } });
  const all = text.split("\n");
  const tail = all.pop()!;
  const events: CouncilEvent[] = [];
  const lines: string[] = [];
  let offset = 0;
  for (const [index, line] of all.entries()) {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      throw corrupt(index + 1, "not JSON");
    }
    const checksum = segmentChecksumSchema.safeParse(raw);
    if (checksum.success) {
      if (index !== all.length - 1 || tail !== "") throw corrupt(index + 1, "bytes after the checksum record");
      if (checksum.data.checksum !== sha256(text.slice(0, offset)) || checksum.data.events !== events.length) throw corrupt(index + 1, "checksum does not match the segment (edited or truncated)");
      return { closed: true, events, lines };
    }
    const event = councilEventSchema.safeParse(raw);
    if (!event.success) throw corrupt(index + 1, `not an event (${event.error.issues[0]?.path.join(".")}: ${event.error.issues[0]?.message})`);
    events.push(event.data);
    lines.push(line);
    offset += line.length + 1;
  }
  return { closed: false, events, lines };
}

/** Whether an open file's last line is a checksum record (reads only its tail). */
async function endsWithChecksum(handle: FileHandle): Promise<boolean> {
  const { size } = await handle.stat();
  if (size === 0) return false;
  const length = Math.min(size, 256);
  const tail = Buffer.alloc(length);
  await handle.read(tail, 0, length, size - length);
  const lines = tail.toString("utf8").split("\n");
  return segmentChecksumSchema.safeParse(safeJson(lines.at(-2) ?? "")).success && lines.at(-1) === "";
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
