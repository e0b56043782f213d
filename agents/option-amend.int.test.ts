import { describe, expect, it } from "vitest";
import { ManualPages, type PassageHit } from "../memory/index.js";
import { amendFromManual } from "./option-amend.js";

// The real manual pages of this machine (man-db, installed by setup): the options the amend step reads.
const manual = new ManualPages();

function page(name: string, text: string): PassageHit[] {
  return [{ passage: { id: name, source: `tldr/${name}.md`, title: name, text }, score: 0.9 }];
}

describe("amendFromManual on the local manual pages", () => {
  it("gzip: keeping the original file → -k (from gzip(1))", async () => {
    const passages = page("gzip", "- Compress a file, replacing it with a `gzip` archive:\n\n`gzip {{path/to/file}}`\n\n- Decompress a file, replacing it with the original uncompressed version:\n\n`gzip {{[-d|--decompress]}} {{path/to/file.gz}}`\n");
    const amendment = await amendFromManual({ question: "What gzip command would compress a file, keeping the original file?", answer: "`gzip path/to/file` — compress a file.", passages }, manual);
    expect(amendment?.amended).toBe("gzip -k path/to/file");
    expect(amendment?.option.help).toMatch(/keep/i);
  });

  it("diff: unified format → -u, and the side-by-side option the question did not ask for goes", async () => {
    const passages = page("diff", "- Compare files, showing the differences side by side:\n\n`diff {{[-y|--side-by-side]}} {{path/to/old_file}} {{path/to/new_file}}`\n\n- Report only that files differ:\n\n`diff {{[-q|--brief]}} {{path/to/old_file}} {{path/to/new_file}}`\n");
    const amendment = await amendFromManual({ question: "What diff command would compare files, showing the differences in unified format?", answer: "`diff -y path/to/old_file path/to/new_file`", passages }, manual);
    expect(amendment).toMatchObject({ amended: "diff -u path/to/old_file path/to/new_file", dropped: ["-y"] });
  });

  it("git add reads git-add(1) and puts the option after the subcommand", async () => {
    const passages = page("git-add", "- Add a file to the index:\n\n`git add {{path/to/file}}`\n\n- Interactively stage parts of files:\n\n`git add {{[-p|--patch]}}`\n");
    const amendment = await amendFromManual({ question: "What git add command would allow adding otherwise ignored files?", answer: "`git add path/to/file`", passages }, manual);
    expect(amendment?.page).toBe("git-add");
    expect(amendment?.amended).toBe("git add -f path/to/file");
  });

  it("a question the page's examples cover is left alone, and a tool without a page here too", async () => {
    const passages = page("gzip", "- Compress a file, replacing it with a `gzip` archive:\n\n`gzip {{path/to/file}}`\n");
    expect(await amendFromManual({ question: "How do I compress a file, replacing it with a gzip archive?", answer: "`gzip path/to/file`", passages }, manual)).toBeUndefined();
    const other = page("frobnicate", "- Frobnicate a file:\n\n`frobnicate {{path/to/file}}`\n");
    expect(await amendFromManual({ question: "How do I frobnicate a file keeping the original?", answer: "`frobnicate path/to/file`", passages: other }, manual)).toBeUndefined();
  });
});
