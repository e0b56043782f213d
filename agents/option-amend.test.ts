import { describe, expect, it } from "vitest";
import type { ManualOption, OptionManual, PassageHit } from "../memory/index.js";
import { parseManualOptions } from "../memory/index.js";
import { amendFromManual, chooseOption, draftToAmend } from "./option-amend.js";
import { GZIP_MANUAL as GZIP } from "./test-fixtures.js";

/** A fake manual: rendered pages by name (the parser is the real one). */
class PagesManual implements OptionManual {
  readonly asked: string[] = [];
  constructor(private readonly pages: Record<string, string>) {}
  async options(tool: string): Promise<readonly ManualOption[] | undefined> {
    this.asked.push(tool);
    const page = this.pages[tool];
    return page === undefined ? undefined : parseManualOptions(page);
  }
}

const DIFF = `
       -q, --brief
              report only when files differ

       -u, -U NUM, --unified[=NUM]
              output NUM (default 3) lines of unified context

       -y, --side-by-side
              output in two columns

       -d, --minimal
              try hard to find a smaller set of changes
`;

const TAR = `
       -x, --extract, --get
              Extract files from an archive.

       -v, --verbose
              Verbosely list files processed.

       -f, --file=ARCHIVE
              Use archive file or device ARCHIVE.

       -z, --gzip
              Filter the archive through gzip.
`;

const GIT_ADD = `
       -n, --dry-run
           Don't actually add the file(s), just show if they exist and/or will be ignored.

       -A, --all, --no-ignore-removal
           Update the index not only where the working tree has a file matching <pathspec> but also where the index
           already has an entry. This adds, modifies, and removes index entries to match the working tree.

       -p, --patch
           Interactively choose hunks of patch between the index and the work tree and add them to the index.

       -v, --verbose
           Be verbose.

       -f, --force
           Allow adding otherwise ignored files.

       -i, --interactive
           Add modified contents in the working tree interactively to the index.

       -e, --edit
           Open the diff vs. the index in an editor and let the user edit it.
`;

const MV = `
       -f, --force
              do not prompt before overwriting

       -i, --interactive
              prompt before overwrite

       -n, --no-clobber
              do not overwrite an existing file
`;

function page(source: string, text: string): PassageHit {
  return { passage: { id: source, source: `tldr/${source}.md`, title: source, text }, score: 0.9 };
}

const gzipPage = page(
  "gzip",
  "# gzip\n\n> Compress/uncompress files with `gzip` compression.\n\n- Compress a file, replacing it with a `gzip` archive:\n\n`gzip {{path/to/file}}`\n\n- Decompress a file, replacing it with the original uncompressed version:\n\n`gzip {{[-d|--decompress]}} {{path/to/file.gz}}`\n",
);
const diffPage = page("diff", "# diff\n\n- Compare files, showing the differences side by side:\n\n`diff {{[-y|--side-by-side]}} {{path/to/old_file}} {{path/to/new_file}}`\n\n- Report only that files differ:\n\n`diff {{[-q|--brief]}} {{path/to/old_file}} {{path/to/new_file}}`\n");
const tarPage = page("tar", "# tar\n\n- Extract a (compressed) archive file into the current directory:\n\n`tar xf {{path/to/source.tar}}`\n\n- Create a gzipped archive:\n\n`tar czf {{path/to/target.tar.gz}} {{path/to/file}}`\n");
const gitAddPage = page("git-add", "# git add\n\n- Add a file to the index:\n\n`git add {{path/to/file}}`\n\n- Interactively stage parts of files:\n\n`git add {{[-p|--patch]}}`\n");
const mvPage = page("mv", "# mv\n\n- Prompt for confirmation before overwriting existing files:\n\n`mv {{[-i|--interactive]}} {{path/to/source}} {{path/to/target}}`\n\n- Rename a file:\n\n`mv {{path/to/source}} {{path/to/target}}`\n");

const manual = new PagesManual({ gzip: GZIP, diff: DIFF, tar: TAR, "git-add": GIT_ADD, mv: MV });

describe("amendFromManual", () => {
  it("adds the option the question asks for and none of the page's examples shows (gzip: keeping the original → -k)", async () => {
    const amendment = await amendFromManual({ question: "What gzip command would compress a file, keeping the original file?", answer: "`gzip path/to/file` — compress a file.", passages: [gzipPage] }, manual);
    expect(amendment).toMatchObject({ command: "gzip path/to/file", amended: "gzip -k path/to/file", flag: "-k", page: "gzip", answer: "`gzip -k path/to/file` — compress a file." });
    expect(amendment!.matched).toContain("keep");
    // The manual's line becomes a note the critic can ground the option on.
    expect(amendment!.passage.passage.text).toContain("`gzip -k`");
    expect(amendment!.passage.passage.source).toBe("man/gzip.1");
  });

  it("changes nothing when an example of the page already covers the question", async () => {
    expect(await amendFromManual({ question: "How do I compress a file, replacing it with a gzip archive?", answer: "`gzip path/to/file` — compress a file.", passages: [gzipPage] }, manual)).toBeUndefined();
    expect(draftToAmend({ question: "How do I decompress a file using gzip?", answer: "`gzip -d path/to/file.gz`", passages: [gzipPage] })).toBeUndefined();
  });

  it("drops a copied option the question does not ask for when adding the one it does (diff -y → -u)", async () => {
    const amendment = await amendFromManual({ question: "What diff command would compare files, showing the differences in unified format?", answer: "`diff -y path/to/old_file path/to/new_file`", passages: [diffPage] }, manual);
    // -u is the spelling that takes no value (-U NUM does).
    expect(amendment).toMatchObject({ amended: "diff -u path/to/old_file path/to/new_file", flag: "-u", dropped: ["-y"] });
  });

  it("puts a letter into a tar-style option cluster, before its f", async () => {
    const amendment = await amendFromManual({ question: "What tar command would extract an archive file into the current folder verbosely?", answer: "`tar xf path/to/source.tar`", passages: [tarPage] }, manual);
    expect(amendment?.amended).toBe("tar xvf path/to/source.tar");
  });

  it("reads a subcommand's own page and puts the option after the subcommand (git add → git-add)", async () => {
    const asking = new PagesManual({ "git-add": GIT_ADD });
    const amendment = await amendFromManual({ question: "How do I add all changes, including removed files, to the index using git add?", answer: "`git add path/to/file`", passages: [gitAddPage] }, asking);
    expect(asking.asked).toEqual(["git-add"]);
    expect(amendment?.amended).toBe("git add -A path/to/file");
  });

  it("leaves a draft alone when the subcommand has no page of its own", async () => {
    const asking = new PagesManual({ git: GIT_ADD });
    expect(await amendFromManual({ question: "How do I add all changes, including removed files, to the index using git add?", answer: "`git add path/to/file`", passages: [gitAddPage] }, asking)).toBeUndefined();
  });

  it("changes nothing when two options answer equally (mv: 'do not' is -f and -n alike)", async () => {
    expect(await amendFromManual({ question: "What mv command would not prompt before overwriting existing files?", answer: "`mv -i path/to/source path/to/target`", passages: [mvPage] }, manual)).toBeUndefined();
  });

  it("changes nothing for a command of another tool than the question names, an unknown tool, or no command", async () => {
    expect(await amendFromManual({ question: "What tar command would extract an archive verbosely?", answer: "`gzip path/to/file`", passages: [gzipPage, tarPage] }, manual)).toBeUndefined();
    expect(await amendFromManual({ question: "How do I compress a file keeping the original?", answer: "`zstd path/to/file`", passages: [gzipPage] }, manual)).toBeUndefined();
    expect(await amendFromManual({ question: "How do I compress a file keeping the original?", answer: "I don't know.", passages: [gzipPage] }, manual)).toBeUndefined();
    // a command no retrieved example teaches is not amended either (the critic fails it as ungrounded)
    expect(await amendFromManual({ question: "How do I compress a file keeping the original?", answer: "`gzip --best path/to/file`", passages: [gzipPage] }, manual)).toBeUndefined();
  });

  it("changes nothing when the tool has no manual page here", async () => {
    expect(await amendFromManual({ question: "What gzip command would compress a file, keeping the original file?", answer: "`gzip path/to/file`", passages: [gzipPage] }, new PagesManual({}))).toBeUndefined();
  });
});

describe("chooseOption", () => {
  const options = parseManualOptions(GZIP);
  it("never picks help or version, and weighs the long name (keep → --keep over -c's 'keep original files')", () => {
    expect(chooseOption(["keep"], options, new Set())?.option.names).toContain("--keep");
  });
  it("skips options the command already has", () => {
    expect(chooseOption(["keep"], options, new Set(["k"]))?.option.names ?? []).not.toContain("--keep");
  });
  it("does not choose on generic words alone ('list', 'file'), unless the long name spells them", () => {
    const generic = parseManualOptions(`
       -a, --all
              show all files in the current directory

       -b, --brief
              show every file in a specific list
`);
    expect(chooseOption(["show", "file", "current"], generic, new Set())).toBeUndefined();
    expect(chooseOption(["list", "content"], options, new Set())?.option.names).toContain("--list");
  });
});
