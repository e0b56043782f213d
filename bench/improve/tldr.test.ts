import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../core/index.js";
import { compileAccept, judgeAnswer } from "./items.js";
import { plainTldrCommand, stripMnemonics } from "../../memory/index.js";
import { buildTldrBench, deriveAccept, parseTldrPage, rephraseQuestion, trafficQuestion, withoutEvalExamples } from "./tldr.js";

const TLDR = join(PROJECT_ROOT, "..", "shared", "datasets", "tldr", "pages");

const PAGE = `# tar

> Archiving utility.
> More information: <https://example.org>.

- [c]reate an archive and write it to a [f]ile:

\`tar cf {{path/to/target.tar}} {{path/to/file1 path/to/file2 ...}}\`

- E[x]tract an archive into the target directory:

\`tar xf {{path/to/source.tar}} {{[-C|--directory]}} {{path/to/directory}}\`

- List files [v]erbosely:

\`tar -tvf {{path/to/source.tar}}\`

- Extract files matching a pattern:

\`tar xf {{path/to/source.tar}} --wildcards "{{*.html}}"\`

- Fifth example:

\`tar --version\`
`;

const passes = (pattern: string, answer: string) => judgeAnswer({ answer, accept: compileAccept({ id: "t", question: "q", accept: [pattern] }) });

describe("tldr loader", () => {
  it("turns each description + command into an example, mnemonics stripped", () => {
    const examples = parseTldrPage({ page: "tar", markdown: PAGE });
    expect(examples.map((e) => e.description)).toEqual([
      "create an archive and write it to a file",
      "Extract an archive into the target directory",
      "List files verbosely",
      "Extract files matching a pattern",
      "Fifth example",
    ]);
    expect(examples[1]!.command).toBe("tar xf {{path/to/source.tar}} {{[-C|--directory]}} {{path/to/directory}}");
    expect(stripMnemonics("E[x]tract a [f]ile [v]erbosely, keep [foo bar]")).toBe("Extract a file verbosely, keep [foo bar]");
  });

  it("normalises placeholders: option alternatives to their first spelling, values without braces", () => {
    expect(plainTldrCommand("tar xf {{path/to/source.tar}} {{[-C|--directory]}} {{path/to/directory}}")).toBe("tar xf path/to/source.tar -C path/to/directory");
  });

  it("asks traffic questions about the page's command and rephrases eval questions deterministically", () => {
    expect(trafficQuestion({ description: "Extract an archive", name: "tar" })).toBe("How do I extract an archive using tar?");
    const first = rephraseQuestion({ description: "Display the current directory", name: "ls", index: 3 });
    expect(first).toBe("What ls command would show the present folder?");
    expect(rephraseQuestion({ description: "Display the current directory", name: "ls", index: 3 })).toBe(first);
    expect(rephraseQuestion({ description: "Display the current directory", name: "ls", index: 4 })).not.toBe(first);
  });

  it("holds every 4th example out for eval and removes it from the knowledge-base copy", () => {
    const kb = withoutEvalExamples(PAGE);
    expect(kb).not.toContain("--wildcards");
    expect(kb).not.toContain("Extract files matching a pattern");
    expect(kb).toContain("tar -tvf");
    expect(kb).toContain("tar --version");
  });

  it.runIf(existsSync(TLDR))("builds traffic, eval and kb pages from the real tldr pages, with no overlap", () => {
    const bench = buildTldrBench({ root: TLDR, pages: ["tar", "ls", "git-commit"], limit: 12 });
    expect(bench.traffic).toHaveLength(12);
    expect(new Set(bench.traffic.map((item) => item.page))).toEqual(new Set(["tar", "ls", "git-commit"]));
    expect(bench.eval.length).toBe(4);
    const trafficIds = new Set(bench.traffic.map((item) => item.id));
    for (const item of bench.eval) {
      expect(trafficIds.has(item.id)).toBe(false);
      // The eval answer is not in the knowledge base.
      const kb = bench.kbPages.find((page) => page.page === item.page)!.markdown;
      expect(plainTldrCommand(kb)).not.toContain(item.answer);
    }
    // Every item's own right answer passes its accept regex.
    for (const item of [...bench.traffic, ...bench.eval]) expect(passes(item.accept[0]!, `Run \`${item.answer}\``), item.id).toBe(true);
  });

  it.runIf(existsSync(TLDR))("every item of the default commands accepts its own answer and rejects the bare command name", () => {
    const bench = buildTldrBench({ root: TLDR });
    expect(bench.traffic.length).toBeGreaterThan(230);
    let strict = 0;
    for (const item of [...bench.traffic, ...bench.eval]) {
      expect(passes(item.accept[0]!, item.answer), item.id).toBe(true);
      if (!passes(item.accept[0]!, item.page.replace(/-/g, " "))) strict++;
    }
    // About 70 % of the examples need a flag or subcommand that the bare name lacks; the rest are the name plus values.
    expect(strict / (bench.traffic.length + bench.eval.length)).toBeGreaterThan(0.65);
  });
});

describe("accept derivation", () => {
  it("requires the command name as a whole word", () => {
    const pattern = deriveAccept({ page: "ls", command: "ls" })!;
    expect(passes(pattern, "Use `ls`.")).toBe(true);
    expect(passes(pattern, "Use lsblk")).toBe(false);
    expect(passes(pattern, "also")).toBe(false);
  });

  it("requires short flag letters in any order and case-sensitively", () => {
    const pattern = deriveAccept({ page: "tar", command: "tar -tvf {{path/to/source.tar}}" })!;
    expect(passes(pattern, "tar -tvf a.tar")).toBe(true);
    expect(passes(pattern, "tar -f a.tar -tv")).toBe(true);
    expect(passes(pattern, "tar -tf a.tar")).toBe(false);
    expect(passes(pattern, "tar -TVF a.tar")).toBe(false);
  });

  it("requires long flags by name, either spelling of an option placeholder, and a subcommand word", () => {
    const pattern = deriveAccept({ page: "tar", command: "tar xf {{path/to/source.tar}} {{[-C|--directory]}} {{path/to/dir}} --wildcards \"{{*.html}}\"" })!;
    expect(passes(pattern, "tar xf a.tar -C out --wildcards '*.html'")).toBe(true);
    expect(passes(pattern, "tar -xf a.tar --directory out --wildcards '*.html'")).toBe(true);
    expect(passes(pattern, "tar xf a.tar --wildcards '*.html'")).toBe(false);
    expect(passes(pattern, "tar xf a.tar -C out")).toBe(false);
    expect(passes(pattern, "tar cf a.tar -C out --wildcards x")).toBe(false);
  });

  it("extends the name by the page's words, skips sudo, ignores placeholders and what follows a pipe", () => {
    const pattern = deriveAccept({ page: "git-commit", command: "sudo git commit {{[-m|--message]}} \"{{message}}\" | grep {{-v}}" })!;
    expect(passes(pattern, "git commit -m 'fix'")).toBe(true);
    expect(passes(pattern, "git   commit --message=x")).toBe(true);
    expect(passes(pattern, "git commit --message x")).toBe(true);
    expect(passes(pattern, "git -m commit")).toBe(false);
    expect(passes(pattern, "git push -m x")).toBe(false);
  });

  it("requires the flags on the same line as the command", () => {
    const pattern = deriveAccept({ page: "ls", command: "ls -la" })!;
    expect(passes(pattern, "ls -al")).toBe(true);
    expect(passes(pattern, "ls\n-la")).toBe(false);
  });

  it("returns undefined for commands that do not start with a literal name", () => {
    expect(deriveAccept({ page: "x", command: "{{command}} --help" })).toBeUndefined();
  });
});
