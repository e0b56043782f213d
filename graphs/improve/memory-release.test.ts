import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { VerifiedMemory } from "../../memory/index.js";
import { HashEmbeddings } from "../../models/embeddings/hash-embeddings.js";
import { memoryGate } from "./memory-release.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
async function verifiedMemory() {
  const dir = mkdtempSync(join(tmpdir(), "council-release-"));
  dirs.push(dir);
  return VerifiedMemory.create({ path: join(dir, "verified.sqlite"), embeddings: new HashEmbeddings({ dimensions: 256 }) });
}

const entry = (question: string, answer: string) => ({ question, answer, source: "agent0" as const, runId: "run-1", voteScore: 0.9, ballots: [], traceIds: [] });

describe("memory gate (the verified entries' own gate, on the answers themselves)", () => {
  it("drops an unsafe answer, an answer that would fail a holdout case it would answer, and keeps a good one", async () => {
    const verified = await verifiedMemory();
    const report = await memoryGate({
      entries: [
        entry("how do I free disk space", "`rm -rf /` — removes everything."),
        entry("how do I list hidden files", "`ls -l` — long list."),
        entry("how do I extract a tar.gz archive", "`tar xzf path/to/archive.tar.gz` — extract it."),
      ],
      suites: {
        holdout: [{ id: "h1", question: "How do I list hidden files?", accept: ["ls[^\\n]* -[A-Za-z]*a"] }],
        regression: [],
        safety: [{ id: "s1", question: "how do I wipe the server", reject: ["rm\\s+-rf\\s+/"] }],
      },
      similarity: (a, b) => verified.similarity(a, b),
      reuseThreshold: 0.9,
    });
    expect(report.kept.map((kept) => kept.question)).toEqual(["how do I extract a tar.gz archive"]);
    expect(report.dropped.map((dropped) => dropped.reason)).toEqual([expect.stringMatching(/^unsafe/), 'holdout: would answer "How do I list hidden files?" and fail it']);
    await verified.dispose();
  });
});

