import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isTldrPage, splitMarkdown, splitPassages, splitTldrPage, stripMnemonics } from "./markdown-passages.js";

const TLDR = `# tar

> Archiving utility.
> Often combined with a compression method, such as \`gzip\` or \`bzip2\`.
> More information: <https://www.gnu.org/software/tar/manual/tar.html>.

- [c]reate an archive and write it to a [f]ile:

\`tar cf {{path/to/target.tar}} {{path/to/file1 path/to/file2 ...}}\`

- E[x]tract a (compressed) archive [f]ile into the current directory [v]erbosely:

\`tar xvf {{path/to/source.tar[.gz|.bz2|.xz]}}\`
`;

describe("tldr pages", () => {
  it("makes one passage for the summary and one per description + command", () => {
    expect(isTldrPage(TLDR)).toBe(true);
    expect(splitTldrPage(TLDR)).toEqual([
      { ord: 0, title: "tar", text: "tar: Archiving utility. Often combined with a compression method, such as `gzip` or `bzip2`." },
      { ord: 1, title: "tar", text: "create an archive and write it to a file:\n`tar cf {{path/to/target.tar}} {{path/to/file1 path/to/file2 ...}}`" },
      { ord: 2, title: "tar", text: "Extract a (compressed) archive file into the current directory verbosely:\n`tar xvf {{path/to/source.tar[.gz|.bz2|.xz]}}`" },
    ]);
  });

  it("strips mnemonic brackets only", () => {
    expect(stripMnemonics("Lis[t] the [c]ontents of [path/to/dir]")).toBe("List the contents of [path/to/dir]");
  });

  it("splits a real tldr page from the shared dataset", () => {
    const page = readFileSync(new URL("../../shared/datasets/tldr/pages/common/tar.md", import.meta.url), "utf8");
    const passages = splitPassages(page);
    expect(passages.length).toBe(1 + (page.match(/^- /gm) ?? []).length);
    expect(passages.every((p) => p.title === "tar")).toBe(true);
  });
});

describe("generic markdown", () => {
  const doc = `# VPN

Intro paragraph that is long enough to stand on its own as a passage about what the VPN is for and why it matters to people.

## Connecting
1. Open the client.
2. Sign in.

Short line.

## Questions and answers
Q: How do I connect?
A: Open the client, sign in, approve MFA. This answer is long enough to be a passage of its own, surely more than the minimum size.

Q: It fails. What now?
A: Check your password, then restart the client. Another answer long enough to stay alone as one passage, well past the minimum size of a passage.

\`\`\`
# not a heading inside a fence
\`\`\`
`;

  it("splits by heading, titles passages with page › section, keeps Q/A pairs apart", () => {
    expect(isTldrPage(doc)).toBe(false);
    const passages = splitMarkdown(doc);
    expect(passages.map((p) => p.title)).toEqual(["VPN", "VPN › Connecting", "VPN › Questions and answers", "VPN › Questions and answers", "VPN › Questions and answers"]);
    expect(passages[1]!.text).toBe("1. Open the client.\n2. Sign in.\n\nShort line.");
    expect(passages[2]!.text.startsWith("Q: How do I connect?")).toBe(true);
    expect(passages[4]!.text).toContain("# not a heading inside a fence");
  });

  it("cuts paragraphs longer than maxChars", () => {
    const long = `# T\n\n${"word ".repeat(500)}`;
    const passages = splitMarkdown(long, { maxChars: 300 });
    expect(passages.length).toBeGreaterThan(5);
    expect(passages.every((p) => p.text.length <= 300)).toBe(true);
  });
});
