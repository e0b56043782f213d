import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ChatClient, startTestServer, type TestServer } from "../test/helpers/chat-server.js";
import { createRealCouncil } from "../test/helpers/real-council.js";

const ADMIN = "restart-admin-token";
const USER = "restart-user-token-0001";

/** The real council (seedling, else a tiny GGUF) on real FaissMemory in `dir`; closing the app disposes both. */
async function start(dir: string): Promise<TestServer> {
  const { council } = await createRealCouncil({ dir, maxTokens: 16 });
  return startTestServer({ runtime: council, server: { adminToken: ADMIN } });
}

async function traceOf(server: TestServer, traceId: string) {
  const response = await fetch(`${server.httpUrl}/api/traces/${traceId}`, { headers: { authorization: `Bearer ${ADMIN}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as { traceId: string; question: string; answer: string; success: boolean; feedback: { rating: number; correction?: string } | null };
}

describe("server restart on the same data dir", () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("finds every recorded turn and every feedback flip after close + build again", async () => {
    dir = await mkdtemp(join(tmpdir(), "council-restart-"));
    const first = await start(dir!);
    const turns: Array<{ traceId: string; question: string; answer: string; success: boolean; fallback: boolean }> = [];
    // One user on three connections: only the asker may rate a turn, and a user may rate from any connection or HTTP.
    const clients = await Promise.all([0, 1, 2].map(() => ChatClient.connect(`${first.wsUrl}?token=${USER}`)));
    for (let i = 0; i < 9; i++) {
      const client = clients[i % 3]!;
      const question = `question number ${i}`;
      const { end } = await client.ask(`${i}`, question);
      if (end.type !== "final") throw new Error(`turn ${i} failed: ${JSON.stringify(end)}`);
      turns.push({ traceId: end.trace_id, question, answer: end.answer, success: end.success, fallback: end.source.kind === "fallback" });
    }

    // Flips: 👎 on 0 and 1, 👍 on 3, 👎 then 👍 on 4, 👎 with a correction over HTTP on 5 (others keep the critic's flag).
    const expected = new Map(turns.map((turn) => [turn.traceId, { success: turn.success, rating: null as number | null, correction: undefined as string | undefined }]));
    const rate = async (index: number, rating: 1 | -1) => {
      const traceId = turns[index]!.traceId;
      clients[0]!.send({ type: "feedback", trace_id: traceId, rating });
      expect(await clients[0]!.next((frame) => frame.type === "feedback-ack" || frame.type === "error")).toEqual({ type: "feedback-ack", trace_id: traceId });
      expected.set(traceId, { success: rating === 1, rating, correction: undefined });
    };
    await rate(0, -1);
    await rate(1, -1);
    await rate(3, 1);
    await rate(4, -1);
    await rate(4, 1);
    const httpFeedback = await fetch(`${first.httpUrl}/feedback`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${USER}` },
      body: JSON.stringify({ trace_id: turns[5]!.traceId, rating: -1, correction: "the right answer" }),
    });
    expect(httpFeedback.status).toBe(200);
    expected.set(turns[5]!.traceId, { success: false, rating: -1, correction: "the right answer" });

    for (const client of clients) await client.close();
    await first.close();

    const second = await start(dir!);
    try {
      for (const turn of turns) {
        const record = await traceOf(second, turn.traceId);
        const want = expected.get(turn.traceId)!;
        // Memory records the council's own answer; when the critic failed it the user got a fallback instead.
        expect(record, turn.question).toMatchObject({ traceId: turn.traceId, question: turn.question, success: want.success, ...(turn.fallback ? {} : { answer: turn.answer }) });
        if (turn.fallback) expect(record!.answer, turn.question).not.toBe(turn.answer);
        expect(record.feedback?.rating ?? null).toBe(want.rating);
        if (want.correction) expect(record.feedback?.correction).toBe(want.correction);
      }
      // The restarted server goes on recording next to the old turns.
      const client = await ChatClient.connect(second.wsUrl);
      const { end } = await client.ask("after", "a question after the restart");
      expect(end.type).toBe("final");
      await client.close();
    } finally {
      await second.close();
    }
  });
});
