import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, PROJECT_ROOT } from "../core/index.js";
import { MarkdownKnowledgeBase, passageRankers } from "../memory/index.js";
import { HashEmbeddings } from "../models/index.js";
import { fallbackAnswer } from "./fallback-answer.js";

/**
 * The fallback a newcomer gets on a fresh data dir: the real knowledge base over kb/, the default embeddings and the
 * configured (default) passage ranker, and the knowledge base's word rarity.
 */
describe("fallback answers on the real kb/ with the default ranker and word rarity", () => {
  let dir: string;
  let kb: MarkdownKnowledgeBase;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "council-fallback-int-"));
    const config = loadConfig({ env: {}, overrides: { dataDir: dir, logLevel: "silent" } });
    const ranker = passageRankers.get(config.kb.ranker).create(config, {});
    kb = await MarkdownKnowledgeBase.create({ storePath: join(dir, "kb.sqlite"), embeddings: new HashEmbeddings({ dimensions: 384 }), ranker });
    await kb.index(join(PROJECT_ROOT, "kb"));
  }, 120_000);
  afterAll(async () => {
    await kb?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const ask = async (question: string, { rarity = true }: { rarity?: boolean } = {}) =>
    fallbackAnswer(question, await kb.search(question, { k: 3 }), rarity ? { documentFrequency: (word) => kb.documentFrequency(word) } : {});

  it("counts in how many passages a word occurs, stemmed as the lexical index stems", () => {
    expect(kb.documentFrequency("port")).toBeGreaterThan(0);
    expect(kb.documentFrequency("port")).toBeLessThan(kb.documentFrequency("find")!);
    expect(kb.documentFrequency("owns")).toBe(kb.documentFrequency("owner"));
    expect(kb.documentFrequency("the")).toBeUndefined();
    expect(kb.documentFrequency("zxqvblorp")).toBe(0);
  });

  it("says I don't know for the port question rather than quote `pgrep` (it covers find and process, not port)", async () => {
    const question = "how do I find which process uses a port?";
    const answer = (await ask(question)).answer;
    expect(answer).toMatch(/^I don't know for sure/);
    expect(answer).not.toMatch(/^From the/);
  });

  it("still answers natural questions whose rare words the notes do not use, and finds the ownership page", async () => {
    expect((await ask("how do I stop a program that hangs?")).answer).toMatch(/^From the Processes page: .*`kill PID`/);
    expect((await ask("how much space is left on my disk?")).answer).toMatch(/^From the Disks, space and mounting page: Run `df -h`/);
    const owner = await ask("how can I find out which user owns a file?");
    expect(owner.page).toMatch(/^File permissions and ownership/);
    expect(owner.answer).toContain("Check with `ls -l` who owns the file");
  });

  it("answers the two questions a newcomer got wrong: the port named with 'using', and the folders that use the most space", async () => {
    expect((await ask("which process is using port 8080?")).answer).toMatch(/^From the Networking basics on Linux page: Run `sudo ss -tulpn \| grep 8080`/);
    expect((await ask("how do I see which folders use the most disk space?")).answer).toMatch(/^From the Disks, space and mounting page: Run `du -h --max-depth=1 ~ \| sort -h`/);
  });
});
