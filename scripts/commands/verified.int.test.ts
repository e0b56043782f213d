import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EventLog, VerifiedMemory } from "../../memory/index.js";
import { HashEmbeddings } from "../../models/index.js";
import { runCli } from "../../test/helpers/run-cli.js";

describe("council verified (real CLI on a data dir's verified memory)", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("lists entries, demotes one by id, withdraws a release, and names a missing id with a typed error", async () => {
    const dir = await mkdtemp(join(tmpdir(), "council-verified-cli-"));
    dirs.push(dir);
    const memory = await VerifiedMemory.create({ path: join(dir, "data", "memory", "verified.sqlite"), embeddings: new HashEmbeddings({ dimensions: 384 }) });
    const [a, b] = await memory.add([
      { question: "How do I list hidden files?", answer: "`ls -a` — list all files.", source: "agent0", runId: "run-1", voteScore: 0.9, ballots: [], release: "memory:run-1", status: "active" },
      { question: "How do I show disk usage?", answer: "`df -h` — free space per file system.", source: "correction", runId: "run-2", voteScore: 0.8, ballots: [], release: "abc123", status: "canary" },
    ]);
    await memory.dispose();
    const env = { COUNCIL_DATA_DIR: dir, COUNCIL_LOG_LEVEL: "silent" };

    const listed = await runCli(["verified", "list", "--json"], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as Array<{ id: string }>).map((entry) => entry.id).sort()).toEqual([a!.id, b!.id].sort());

    const demoted = await runCli(["verified", "demote", a!.id, "--note", "wrong for our servers"], env);
    expect(demoted.code, demoted.stderr).toBe(0);
    expect(demoted.stdout).toContain("demoted");
    const withdrawn = await runCli(["verified", "withdraw", "--release", "abc123"], env);
    expect(withdrawn.stdout).toContain("withdrew 1 entry of release abc123");
    const after = JSON.parse((await runCli(["verified", "--json"], env)).stdout) as Array<{ id: string; status: string; note: string | null }>;
    expect(after.find((entry) => entry.id === a!.id)).toMatchObject({ status: "demoted", note: "wrong for our servers" });
    expect(after.find((entry) => entry.id === b!.id)).toMatchObject({ status: "withdrawn" });

    // Both operator changes are in the event log, with the OS user as actor.
    const logged = await (await EventLog.create({ dir: join(dir, "events") })).events();
    expect(logged.map((event) => [event.type, event.payload.id ?? event.payload.release])).toEqual([
      ["verified-demoted", a!.id],
      ["verified-release-changed", "abc123"],
    ]);
    expect(logged[0]!.actor).not.toBe("nightly");

    const plain = await runCli(["verified"], env);
    expect(plain.stdout.split("\n")[0]).toBe("canary 0 · active 0 · demoted 1 · withdrawn 1");

    const missing = await runCli(["verified", "demote", "v-0000000000000000"], env);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("council: NOT_FOUND: No verified entry v-0000000000000000");
  });
});
