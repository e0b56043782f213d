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

describe("MarkdownKnowledgeBase title boost (a question that names a page gets that page's passages)", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "council-kb-title-"));
    mkdirSync(join(root, "tldr"));
    writeFileSync(join(root, "tldr", "mv.md"), "# mv\n\n> Move or rename files and directories.\n\n- Move files in [v]erbose mode, showing files after they are moved:\n\n`mv {{[-v|--verbose]}} {{path/to/source}} {{path/to/target}}`\n\n- Do not overwrite existing files at the target:\n\n`mv {{[-n|--no-clobber]}} {{path/to/source}} {{path/to/target}}`\n");
    writeFileSync(join(root, "tldr", "cp.md"), "# cp\n\n> Copy files and directories.\n\n- Copy a file to another location:\n\n`cp {{path/to/source_file}} {{path/to/target_file}}`\n\n- Copy a directory recursively:\n\n`cp {{[-r|--recursive]}} {{path/to/source_directory}} {{path/to/target_directory}}`\n");
    writeFileSync(join(root, "tldr", "ssh.md"), "# ssh\n\n> Secure Shell client.\n\n- Connect to a remote server with a specific identity (private key):\n\n`ssh {{username}}@{{remote_host}} -i {{path/to/key_file}}`\n");
    writeFileSync(join(root, "tldr", "ssh-keygen.md"), "# ssh-keygen\n\n> Generate ssh keys.\n\n- Generate a key interactively:\n\n`ssh-keygen`\n\n- Change the password of a key:\n\n`ssh-keygen -f {{~/.ssh/filename}} -p`\n");
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const titlesOf = async (kb: MarkdownKnowledgeBase, question: string) => (await kb.search(question, { k: 3 })).map((hit) => hit.passage.title);

  it("plain cosine puts another page first; the default boost puts the named page's passages first", async () => {
    const plain = await MarkdownKnowledgeBase.create({ storePath: join(root, "plain.sqlite"), titleBoost: 0 });
    const boosted = await MarkdownKnowledgeBase.create({ storePath: join(root, "boosted.sqlite") });
    try {
      await plain.index(join(root, "tldr"));
      await boosted.index(join(root, "tldr"));
      const question = "What cp command would copy a folder recursively, in verbose mode (shows files as they are copied)?";
      expect((await titlesOf(plain, question))[0]).toBe("mv");
      expect(await titlesOf(boosted, question)).toEqual(["cp", "cp", "cp"]);
      // "ssh keygen" names ssh-keygen, not ssh (the longest named title wins).
      expect((await titlesOf(boosted, "Show me the ssh keygen command to use a private key file."))[0]).toBe("ssh-keygen");
      // A question that names no page ranks by cosine alone.
      expect(await boosted.search("move files verbosely", { k: 2 })).toEqual(await plain.search("move files verbosely", { k: 2 }));
    } finally {
      await plain.dispose();
      await boosted.dispose();
    }
  });

  it("refuses a negative boost", async () => {
    await expect(MarkdownKnowledgeBase.create({ storePath: join(root, "bad.sqlite"), titleBoost: -1 })).rejects.toMatchObject({ code: "CONFIG_INVALID" });
  });
});
