import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { createMetrics, loadConfig, Registry, silentLogger } from "../core/index.js";
import { ReviewQueue, reviewQueuePath, type ReviewItem } from "../graphs/improve/index.js";
import { FakeMemoryStore } from "../test/fakes/index.js";
import { FakeCouncilRuntime } from "../test/fakes/fake-runtime.js";
import type { EventInput, EventSink } from "../memory/index.js";
import { buildApp } from "./build-app.js";

const ADMIN = "review-admin-token";
const auth = { authorization: `Bearer ${ADMIN}` };
let app: FastifyInstance | undefined;
let dir: string | undefined;
afterEach(async () => {
  await app?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  app = undefined;
  dir = undefined;
});

async function setup({ events }: { events?: EventSink } = {}) {
  dir = await mkdtemp(join(tmpdir(), "review-routes-"));
  const config = loadConfig({ env: {}, overrides: { dataDir: dir, logLevel: "silent", server: { host: "127.0.0.1", port: 0, adminToken: ADMIN } } });
  const queue = new ReviewQueue({ path: reviewQueuePath(config) });
  const entries = ["tar", "mount"].map((name) => ({
    item: { id: `q-${name}`, question: `How do I ${name}`, failedAnswer: "no idea", traceIds: [], userId: "u", createdAt: 1, category: null },
    candidates: [{ id: `q-${name}-kb`, itemId: `q-${name}`, text: `Use ${name}.`, source: "knowledge-base" as const }, { id: `q-${name}-llm`, itemId: `q-${name}`, text: `Try ${name} --help.`, source: "llm" as const }],
    decision: { itemId: `q-${name}`, accepted: false, winnerId: `q-${name}-kb`, winnerScore: 0.6, ballots: [{ candidateId: `q-${name}-kb`, voter: "grounding", score: 0.6, reason: "in the knowledge base" }], reason: "below the accept bar" },
  }));
  const queued = await queue.enqueue({ runId: "run-1", entries });
  app = await buildApp({ config, runtime: new FakeCouncilRuntime({ memory: new FakeMemoryStore() }), metrics: createMetrics({ registry: new Registry(), defaultMetrics: false }), logger: silentLogger, now: () => 5_000, ...(events ? { events } : {}) });
  return { app, queue, queued, path: reviewQueuePath(config) };
}

describe("admin API of the review queue", () => {
  it("lists pending items and takes decisions (admin only), recorded as events and reviewer ballots with actor admin", async () => {
    const { app, queue, queued, path } = await setup();
    expect((await app.inject({ method: "GET", url: "/api/review" })).statusCode).toBe(401);
    expect((await app.inject({ method: "POST", url: `/api/review/${queued[0]!.id}`, payload: { decision: "reject" } })).statusCode).toBe(401);

    const listed = await app.inject({ method: "GET", url: "/api/review", headers: auth });
    expect(listed.statusCode).toBe(200);
    expect((listed.json() as { items: ReviewItem[] }).items.map((item) => item.question)).toEqual(["How do I tar", "How do I mount"]);

    const accepted = await app.inject({ method: "POST", url: `/api/review/${queued[0]!.id}`, headers: auth, payload: { decision: "accept", candidateId: "q-tar-llm", text: "tar -xf a.tar" } });
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect(accepted.json()).toMatchObject({ item: { status: "accepted", decision: { actor: "admin", at: 5_000, choice: "accept", candidateId: "q-tar-llm", editedText: "tar -xf a.tar" } } });
    const rejected = await app.inject({ method: "POST", url: `/api/review/${queued[1]!.id}`, headers: auth, payload: { decision: "reject" } });
    expect(rejected.statusCode).toBe(200);

    expect((await app.inject({ method: "GET", url: "/api/review", headers: auth })).json()).toEqual({ items: [] });
    const all = (await app.inject({ method: "GET", url: "/api/review?all=1", headers: auth })).json() as { items: ReviewItem[] };
    expect(all.items.map((item) => item.status)).toEqual(["accepted", "rejected"]);
    expect((await queue.items()).map((item) => item.ballots.at(-1)?.voter)).toEqual(["reviewer:admin", "reviewer:admin"]);
    expect((await readFile(path, "utf8")).trim().split("\n")).toHaveLength(4);
  });

  it("appends each decision to the event log given to buildApp, with actor admin", async () => {
    const appended: EventInput[] = [];
    const { app, queued } = await setup({ events: { append: async (event) => (appended.push(event), { id: "e", time: 0, ...event }) } });
    await app.inject({ method: "POST", url: `/api/review/${queued[1]!.id}`, headers: auth, payload: { decision: "reject" } });
    expect(appended).toEqual([{ actor: "admin", type: "review-decided", payload: expect.objectContaining({ reviewId: queued[1]!.id, runId: "run-1", choice: "reject", userId: "u" }) }]);
  });

  it("answers typed errors for bad ids, bodies and unknown items, changing nothing", async () => {
    const { app, queue, queued } = await setup();
    const cases = [
      { url: "/api/review/not-an-id", payload: { decision: "accept" }, status: 400, code: "FRAME_INVALID" },
      { url: `/api/review/${queued[0]!.id}`, payload: { decision: "maybe" }, status: 400, code: "FRAME_INVALID" },
      { url: `/api/review/${queued[0]!.id}`, payload: { decision: "reject", text: "x" }, status: 400, code: "FRAME_INVALID" },
      { url: `/api/review/${queued[0]!.id}`, payload: { decision: "accept", candidateId: "q-other" }, status: 400, code: "FRAME_INVALID" },
      { url: "/api/review/rv-000000000000", payload: { decision: "accept" }, status: 404, code: "REVIEW_NOT_FOUND" },
    ];
    for (const { url, payload, status, code } of cases) {
      const response = await app.inject({ method: "POST", url, headers: auth, payload });
      expect({ url, status: response.statusCode, code: (response.json() as { code: string }).code }).toEqual({ url, status, code });
    }
    expect((await queue.pending()).length).toBe(2);
  });
});
