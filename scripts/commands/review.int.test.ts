import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ReviewQueue, type HarvestItem, type ReviewItem, type VoteDecision } from "../../graphs/improve/index.js";
import { runCli, spawnCli } from "../../test/helpers/run-cli.js";

const item = (id: string, question: string): HarvestItem => ({ id, question, failedAnswer: "zip", traceIds: [`t-${id}`], userId: "u", createdAt: 1_000, category: "ungrounded" });
const candidates = (itemId: string) => [
  { id: `${itemId}-llm`, itemId, text: "Run tar xf file.tar", source: "llm" as const },
  { id: `${itemId}-kb`, itemId, text: "Use tar -xf archive.tar to extract.", source: "knowledge-base" as const },
];
const decision = (itemId: string): VoteDecision => ({ itemId, accepted: false, winnerId: `${itemId}-kb`, winnerScore: 0.6, reason: "below the accept bar", ballots: [{ candidateId: `${itemId}-kb`, voter: "grounding", score: 0.6, reason: "in the knowledge base" }] });

describe("council review (real CLI process on a queue in a temp data dir)", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  const seeded = async (count: number) => {
    const dir = await mkdtemp(join(tmpdir(), "council-review-"));
    dirs.push(dir);
    const path = join(dir, "data", "improve", "review-queue.jsonl");
    const queue = new ReviewQueue({ path });
    const entries = Array.from({ length: count }, (_, index) => ({ item: item(`q-${index}`, `How do I extract tar ${index}`), candidates: candidates(`q-${index}`), decision: decision(`q-${index}`) }));
    const queued = await queue.enqueue({ runId: "run-20261206T020000-aaaa", entries });
    return { dir, path, queue, queued, env: { COUNCIL_DATA_DIR: dir, COUNCIL_LOG_LEVEL: "silent", EDITOR: "", VISUAL: "" } };
  };

  it("lists pending items as JSON and decides them by id, recording the actor as an event and a ballot", async () => {
    const { env, queued, path, queue } = await seeded(2);
    const listed = await runCli(["review", "--list", "--json"], env);
    expect(listed.code, listed.stderr).toBe(0);
    const items = JSON.parse(listed.stdout) as ReviewItem[];
    expect(items.map((entry) => ({ id: entry.id, status: entry.status, question: entry.question, candidates: entry.candidates.length }))).toEqual([
      { id: queued[0]!.id, status: "pending", question: "How do I extract tar 0", candidates: 2 },
      { id: queued[1]!.id, status: "pending", question: "How do I extract tar 1", candidates: 2 },
    ]);

    // candidate 2 on the screen is the llm one (the council's best is shown first)
    const accepted = await runCli(["review", "--decide", queued[0]!.id, "accept", "--candidate", "2", "--actor", "alice", "--json"], env);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(JSON.parse(accepted.stdout)).toMatchObject({ status: "accepted", decision: { actor: "alice", choice: "accept", candidateId: "q-0-llm" } });
    const rejected = await runCli(["review", "--decide", queued[1]!.id, "reject", "--actor", "bob"], env);
    expect(rejected.code, rejected.stderr).toBe(0);
    expect(rejected.stdout).toContain("rejected by bob");

    expect(JSON.parse((await runCli(["review", "--list", "--json"], env)).stdout)).toEqual([]);
    const all = await queue.items();
    expect(all.map((entry) => entry.ballots.at(-1))).toEqual([
      { candidateId: "q-0-llm", voter: "reviewer:alice", score: 1, reason: "accepted by alice in review" },
      { candidateId: "q-1-kb", voter: "reviewer:bob", score: 0, reason: "rejected by bob in review" },
    ]);
    expect((await readFile(path, "utf8")).trim().split("\n").map((line) => (JSON.parse(line) as { type: string }).type)).toEqual(["review-queued", "review-queued", "review-decided", "review-decided"]);

    const unknown = await runCli(["review", "--decide", "rv-nope", "accept"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("REVIEW_NOT_FOUND");
  }, 120_000);

  it("works through the queue one key at a time: reject, skip, then edit the next one's answer (a line read without $EDITOR)", async () => {
    const { env, queue } = await seeded(3);
    const child = spawnCli(["review", "--actor", "carol"], env);
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stdin.end("rse\ntar -xf the.tar\n");
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code, stdout).toBe(0);
    expect(stdout).toContain("Question: How do I extract tar 0");
    expect(stdout).toContain("Failed answer:");
    expect(stdout).toContain("grounding  0.60  in the knowledge base");
    expect(stdout).toContain("Reviewed: 1 accepted, 1 rejected, 1 skipped.");
    const all = await queue.items();
    expect(all.map((entry) => entry.status)).toEqual(["rejected", "pending", "accepted"]);
    expect(all[2]!.decision).toMatchObject({ actor: "carol", choice: "accept", candidateId: "q-2-kb", editedText: "tar -xf the.tar" });
  }, 60_000);

  it("edits the best candidate in $EDITOR", async () => {
    const { env, queue } = await seeded(1);
    const child = spawnCli(["review", "--actor", "dave"], { ...env, EDITOR: "sed -i s/Use/Apply/" });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stdin.end("e");
    expect(await new Promise<number | null>((resolve) => child.on("close", resolve)), stdout).toBe(0);
    expect((await queue.items())[0]!.decision).toMatchObject({ actor: "dave", choice: "accept", candidateId: "q-0-kb", editedText: "Apply tar -xf archive.tar to extract." });
  }, 60_000);
});
