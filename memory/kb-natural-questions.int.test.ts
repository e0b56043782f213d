import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../core/index.js";
import { HashEmbeddings } from "../models/index.js";
import { MarkdownKnowledgeBase } from "./markdown-knowledge-base.js";
import { cosineRanker, hybridRanker } from "./passage-rankers.js";

/** Plain-English questions a newcomer asks on a fresh data dir, and the kb/ page that answers each. */
const QUESTIONS: Array<[string, string]> = [
  ["how can I find out which user owns a file?", "linux-file-permissions.md"],
  ["give a file to another user", "linux-file-permissions.md"],
  ["how much space is left on my disk?", "linux-disks.md"],
  ["how do I stop a program that hangs?", "linux-processes.md"],
  ["which groups am I a member of?", "linux-users-and-groups.md"],
  ["copy a file to another machine over the network", "linux-ssh.md"],
  ["how do I undo my last commit?", "git-basics.md"],
];

describe("knowledge base on the real kb/ with the default embeddings and the hybrid ranker (a fresh data dir)", () => {
  let dir: string;
  let hybrid: MarkdownKnowledgeBase;
  let cosine: MarkdownKnowledgeBase;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "council-kb-natural-"));
    const embeddings = new HashEmbeddings({ dimensions: 384 });
    hybrid = await MarkdownKnowledgeBase.create({ storePath: join(dir, "kb.sqlite"), embeddings, ranker: hybridRanker() });
    await hybrid.index(join(PROJECT_ROOT, "kb"));
    cosine = await MarkdownKnowledgeBase.create({ storePath: join(dir, "kb.sqlite"), embeddings, ranker: cosineRanker() });
  }, 120_000);
  afterAll(async () => {
    await hybrid?.dispose();
    await cosine?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const pagesOf = async (kb: MarkdownKnowledgeBase, question: string) => (await kb.search(question, { k: 3 })).map((hit) => hit.passage.source);

  it("retrieves the page of each natural question in the top 3 passages", async () => {
    for (const [question, page] of QUESTIONS) expect(await pagesOf(hybrid, question), question).toContain(page);
  });

  it("finds the ownership section for the question plain cosine (COUNCIL_KB_RANKER=cosine) misses", async () => {
    const question = QUESTIONS[0]![0];
    expect(await pagesOf(cosine, question)).not.toContain("linux-file-permissions.md");
    const [first] = await hybrid.search(question, { k: 3 });
    expect(first?.passage.source).toBe("linux-file-permissions.md");
    expect(first?.passage.text).toMatch(/owner|ls -l/);
  });
});
