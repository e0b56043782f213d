import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isCouncilError } from "../core/index.js";
import { HashEmbeddings } from "../models/embeddings/hash-embeddings.js";
import { MarkdownKnowledgeBase } from "./markdown-knowledge-base.js";

/** Real HashEmbeddings that count how many texts they embedded. */
class CountingEmbeddings extends HashEmbeddings {
  embedded = 0;
  override async embedDocuments(documents: string[]): Promise<number[][]> {
    this.embedded += documents.length;
    return super.embedDocuments(documents);
  }
}

describe("MarkdownKnowledgeBase", () => {
  let root: string;
  let docs: string;
  let storePath: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "council-kb-"));
    docs = join(root, "docs");
    mkdirSync(join(docs, "sub"), { recursive: true });
    storePath = join(root, "store", "kb.sqlite");
    writeFileSync(join(docs, "vpn.md"), "# VPN\n\n## Connecting\nOpen the VPN client, choose the nearest gateway and approve the MFA request.\n\n## Errors\nAuthentication failed means your password changed or expired.\n");
    writeFileSync(join(docs, "sub", "printers.md"), "# Printers\n\nA printer that shows offline usually needs its queue cleared and the printer restarted.\n");
    writeFileSync(join(docs, "tar.md"), "# tar\n\n> Archiving utility.\n\n- E[x]tract an archive:\n\n`tar xf {{path/to/source.tar}}`\n");
    writeFileSync(join(docs, "notes.txt"), "not markdown");
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("indexes a folder into passages and finds the relevant one", async () => {
    const kb = await MarkdownKnowledgeBase.create({ storePath });
    try {
      const report = await kb.index(docs);
      expect(report).toMatchObject({ files: 3, added: 3, changed: 0, removed: 0, unchanged: 0 });
      expect(kb.size()).toBe(report.total);
      const [hit] = await kb.search("printer offline", { k: 1 });
      expect(hit!.passage).toMatchObject({ source: "sub/printers.md", title: "Printers" });
      const [tar] = await kb.search("extract a tar archive", { k: 1 });
      expect(tar!.passage.text).toBe("Extract an archive:\n`tar xf {{path/to/source.tar}}`");
      const hits = await kb.search("vpn password expired authentication", { k: 2 });
      expect(hits[0]!.passage.title).toBe("VPN › Errors");
      expect(hits[0]!.score).toBeGreaterThanOrEqual(hits[1]!.score);
    } finally {
      await kb.dispose();
    }
  });

  it("persists, and re-embeds only files whose content changed", async () => {
    const embeddings = new CountingEmbeddings();
    let kb = await MarkdownKnowledgeBase.create({ storePath, embeddings });
    await kb.index(docs);
    await kb.dispose();

    kb = await MarkdownKnowledgeBase.create({ storePath, embeddings });
    const size = kb.size();
    expect(size).toBeGreaterThan(3);
    embeddings.embedded = 0;
    expect(await kb.index(docs)).toMatchObject({ unchanged: 3, added: 0, changed: 0 });
    expect(embeddings.embedded).toBe(0);

    writeFileSync(join(docs, "sub", "printers.md"), "# Printers\n\nPaper jams: open tray 2 and remove the paper gently.\n");
    rmSync(join(docs, "tar.md"));
    expect(await kb.index(docs)).toMatchObject({ unchanged: 1, changed: 1, removed: 1 });
    expect(embeddings.embedded).toBe(1);
    expect((await kb.search("paper jam tray", { k: 1 }))[0]!.passage.text).toContain("open tray 2");
    expect((await kb.search("tar", { k: 50 })).some((hit) => hit.passage.source === "tar.md")).toBe(false);
    await kb.dispose();
  });

  it("rejects a missing folder and bad k with typed errors", async () => {
    const kb = await MarkdownKnowledgeBase.create({ storePath });
    try {
      const missing = await kb.index(join(root, "nope")).catch((e: unknown) => e);
      expect(isCouncilError(missing, "NOT_FOUND")).toBe(true);
      const badK = await kb.search("x", { k: 0 }).catch((e: unknown) => e);
      expect(isCouncilError(badK, "MEMORY_QUERY_INVALID")).toBe(true);
      expect(await kb.search("anything")).toEqual([]);
    } finally {
      await kb.dispose();
    }
  });
});
