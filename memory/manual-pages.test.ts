import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ManualPages, parseManualOptions } from "./manual-pages.js";

describe("parseManualOptions", () => {
  it("reads GNU, gzip-style and mdoc-style option lines with their descriptions", () => {
    const options = parseManualOptions(`MV(1)                         User Commands                        MV(1)

NAME
       mv - move (rename) files

DESCRIPTION
       Rename SOURCE to DEST, or move SOURCE(s) to DIRECTORY.

       -f, --force
              do not prompt before overwriting

       -S, --suffix=SUFFIX
              override the usual backup suffix

       -k --keep
              Keep (don't delete) input files during compression or
              decompression.

     -R hostname | [hostname]:port
             Removes all keys belonging to the specified hostname from a
             known_hosts file.

       -u, -U NUM, --unified[=NUM]
              output NUM (default 3) lines of unified context

       -b     like --backup but does not accept an argument

       - This line is prose that starts with a dash. It is not an option.
`);
    expect(options.map((option) => option.names)).toEqual([["-f", "--force"], ["-S", "--suffix"], ["-k", "--keep"], ["-R"], ["-u", "-U", "--unified"], ["-b"]]);
    expect(options[0]).toEqual({ names: ["-f", "--force"], takesValue: false, help: "do not prompt before overwriting" });
    expect(options[1]).toMatchObject({ takesValue: true, value: "suffix" });
    expect(options[2]!.help).toBe("Keep (don't delete) input files during compression or decompression.");
    expect(options[3]).toMatchObject({ takesValue: true, value: "hostname", help: "Removes all keys belonging to the specified hostname from a known_hosts file." });
    expect(options[4]).toMatchObject({ takesValue: true, plain: "-u" });
    expect(options[5]).toMatchObject({ takesValue: false, help: "like --backup but does not accept an argument" });
  });

  it("drops overstrike and escape sequences of a formatted page", () => {
    const bold = (text: string) => [...text].map((char) => `${char}\b${char}`).join("");
    const options = parseManualOptions(`       ${bold("-v")}, ${bold("--verbose")}\n              \u001b[1mexplain\u001b[0m what is being done\n`);
    expect(options).toEqual([{ names: ["-v", "--verbose"], takesValue: false, help: "explain what is being done" }]);
  });
});

describe("ManualPages", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  /** A stand-in `man` that logs its arguments and prints one page. */
  async function fakeMan(page: string): Promise<{ command: string; log: string }> {
    const dir = await mkdtemp(join(tmpdir(), "council-man-"));
    dirs.push(dir);
    const command = join(dir, "man");
    const log = join(dir, "calls");
    await writeFile(command, `#!/bin/sh\necho "$@" >> ${log}\n[ "$3" = "gzip" ] || exit 16\ncat <<'PAGE'\n${page}\nPAGE\n`);
    await chmod(command, 0o755);
    return { command, log };
  }

  it("reads a page once (no pager), caches it, and has no options for a missing page", async () => {
    const { command, log } = await fakeMan("       -k, --keep\n              keep input files\n");
    const manual = new ManualPages({ command });
    expect(await manual.options("gzip")).toEqual([{ names: ["-k", "--keep"], takesValue: false, help: "keep input files" }]);
    await manual.options("gzip");
    expect(await manual.options("zstd")).toBeUndefined();
    const { readFile } = await import("node:fs/promises");
    expect((await readFile(log, "utf8")).trim().split("\n")).toEqual(["-P cat gzip", "-P cat zstd"]);
  });

  it("never runs man for a name that is not a tool name", async () => {
    const { command, log } = await fakeMan("");
    const manual = new ManualPages({ command });
    for (const name of ["-k", "../etc/passwd", "a b", "x;rm -rf /", "", "/usr/bin/ls"]) expect(await manual.options(name)).toBeUndefined();
    const { existsSync } = await import("node:fs");
    expect(existsSync(log)).toBe(false);
  });

  it("has no options when man itself is missing", async () => {
    expect(await new ManualPages({ command: "/nonexistent/man" }).options("gzip")).toBeUndefined();
  });
});
