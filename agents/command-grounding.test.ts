import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { PassageHit } from "../memory/index.js";
import { commandGroundingCheck, noteCommands } from "./command-grounding.js";
import { Critic } from "./critic.js";
import { fixtureEmbeddings } from "./test-fixtures.js";
import { FakeChatModel } from "../test/fakes/index.js";

const kbPage = (file: string, title: string): PassageHit => ({
  passage: { id: file, source: file, title, text: readFileSync(join(import.meta.dirname, "..", "kb", file), "utf8") },
  score: 0.5,
});
const archives = kbPage("linux-archives.md", "Archives and compression: tar, gzip and zip");
const services = kbPage("linux-services-and-scheduling.md", "Services with systemd and scheduled tasks with cron");
const tldrTar: PassageHit = {
  passage: {
    id: "tar",
    source: "tar.md",
    title: "tar",
    text: "# tar\n\n- Show sizes:\n\n`du {{[-sh|--summarize --human-readable]}} {{path/to/directory}}`\n\n- E[x]tract a (compressed) archive file into the current directory:\n\n`tar xf {{path/to/source.tar[.gz|.bz2|.xz]}}`\n\n- [c]reate a g[z]ipped archive:\n\n`tar czf {{path/to/target.tar.gz}} {{path/to/file1 path/to/file2 ...}}`\n",
  },
  score: 0.5,
};
const check = (question: string, answer: string, passages: PassageHit[] = [archives, services]) => commandGroundingCheck({ question, answer, passages });

describe("commandGroundingCheck", () => {
  it("reads the commands the notes quote, tldr placeholders rendered, subcommands kept apart from placeholders", () => {
    const notes = noteCommands([tldrTar, services]);
    expect(notes.filter((note) => note.tool === "tar").map((note) => ({ flags: [...note.flags].sort(), arguments: note.arguments, subcommand: note.subcommand }))).toEqual([
      { flags: ["f", "x"], arguments: 1, subcommand: undefined },
      { flags: ["c", "f", "z"], arguments: 2, subcommand: undefined },
    ]);
    expect(notes.find((note) => note.tool === "du")).toMatchObject({ flags: new Set(["s", "h"]), arguments: 1 });
    expect(notes.find((note) => note.tool === "systemctl" && note.subcommand === "restart")).toMatchObject({ arguments: 2 });
  });

  // The three answers a newcomer got on a fresh data dir (2026-12-06, reading seedling), each scored ≥ 0.89 by the
  // words-only critic and delivered.
  it.each([
    ["how do I extract a tar.gz archive?", "`tar.tar.gz -xzf backup.tar.gz` — show do a tar.", "ungrounded", /`tar.tar.gz` is not a command the retrieved notes use/],
    ["how do I see which process is listening on port 8080?", "`sudo Networking` — see which process is listening on port 8080.", "ungrounded", /`Networking` is not a command/],
    ["how do I restart the ssh service?", "`sudo systemctl restart` — restart theart service.t.", "incomplete", /matches none of the notes' systemctl examples/],
  ])("fails %j answered %j", (question, answer, category, reason) => {
    const failure = check(question, answer);
    expect(failure).toMatchObject({ category });
    expect(failure!.cap).toBeLessThan(0.5);
    expect(failure!.reason).toMatch(reason);
  });

  it("passes a copied example with its values filled in, and options taken from another example of the same tool", () => {
    expect(check("How do I extract a .tar.gz file?", "`tar -xzf backup.tar.gz` — extract it.")).toBeUndefined();
    expect(check("How do I extract a .tar.gz file?", "`tar -xzf backup.tar.gz -C target/` — extract into a folder.")).toBeUndefined();
    expect(check("How do I restart the ssh service?", "`sudo systemctl restart ssh` — restart the service.")).toBeUndefined();
    expect(check("How do I extract an archive using tar?", "`tar xf path/to/source.tar.gz` — extract it.", [tldrTar])).toBeUndefined();
  });

  it("fails an option the notes never use with that tool", () => {
    expect(check("How do I extract a .tar.gz file?", "`tar -xzqf backup.tar.gz` — extract it.")).toMatchObject({ category: "ungrounded", reason: "option -q of tar not in the retrieved notes" });
  });

  it("fails the notes' command for another task when the notes answer this one clearly", () => {
    const failure = check("How do I create a compressed archive of a folder?", "`tar -xzf file.tar.gz` — create a compressed archive.");
    expect(failure).toMatchObject({ category: "off-topic" });
    expect(failure!.reason).toMatch(/the notes answer it with `tar -czf name.tar.gz folder\/`/);
  });

  it("fails another subcommand of the tool the notes answer with (`git init`, `git push` are no `git clone`, `git add`)", () => {
    const git = kbPage("git-basics.md", "Git basics");
    const tldrGit: PassageHit = { passage: { id: "git", source: "git.md", title: "git", text: "- Create an empty Git repository:\n\n`git init`\n\n- Push local commits to a remote:\n\n`git push`\n" }, score: 0.5 };
    const clone = check("How do I download a git repository?", "`git init` — download a git repository.", [git, tldrGit]);
    expect(clone).toMatchObject({ category: "off-topic", reason: expect.stringMatching(/the notes answer it with `git clone/) });
    expect(check("How do I save my changes in git?", "`git push` — save my changes in git.", [git])).toMatchObject({ category: "off-topic", reason: expect.stringMatching(/the notes answer it with `git add file`/) });
    // The same subcommand with its values filled in is the notes' answer.
    expect(check("How do I download a git repository?", "`git clone https://example.com/team/app.git` — download a git repository.", [git, tldrGit])).toBeUndefined();
  });

  it("fails an answer that opens with a code quote that is no command, and an 'I don't know' the notes could answer", () => {
    expect(check("How do I check how much disk space is left?", "`<Space>` — check how much disk space is left.")).toMatchObject({ category: "format" });
    expect(check("How do I extract a .tar.gz file?", "I don't know for sure: my notes do not cover this.")).toMatchObject({ category: "incomplete" });
    expect(check("How do I fly a kite?", "I don't know for sure: my notes do not cover this.")).toBeUndefined();
  });

  it("with word rarity, passes an honest 'I don't know' when the notes' best unit misses the question's distinctive word", () => {
    const processes = kbPage("linux-processes.md", "Processes: seeing, stopping and prioritising programs");
    const question = "how do I find which process uses a port?";
    const answer = "I don't know for sure: my notes do not cover this.";
    // Document frequencies as on kb/ (295 passages): "port" 11, "process" 14, "find" 17.
    const frequency: Record<string, number> = { find: 17, process: 14, port: 11, uses: 53 };
    const documentFrequency = (word: string) => frequency[word] ?? 0;
    // By word count alone `pgrep -a programname` ("find the process id of a program") is a clear answer.
    expect(check(question, answer, [processes, services])).toMatchObject({ category: "incomplete", reason: expect.stringMatching(/pgrep/) });
    expect(commandGroundingCheck({ question, answer, passages: [processes, services], documentFrequency })).toBeUndefined();
    // A question the best unit answers with its distinctive word is still held to it.
    expect(commandGroundingCheck({ question: "How do I extract a .tar.gz file?", answer, passages: [archives, services], documentFrequency: () => 3 })).toMatchObject({ category: "incomplete" });
  });

  it("ignores a later quote that is a key or a value, and an answer with no command", () => {
    const tail: PassageHit = { passage: { id: "tail", source: "tail.md", title: "tail", text: "- Keep reading a file until `<Ctrl c>`:\n\n`tail -f {{path/to/file}}`\n" }, score: 0.5 };
    expect(check("How do I keep reading a file using tail?", "`tail -f path/to/file` — keep reading it until `<Ctrl c>`.", [tail])).toBeUndefined();
    const prose: PassageHit = { passage: { id: "wifi", source: "wifi.md", title: "Wi-Fi", text: "Forget the network and join it again with your badge password." }, score: 0.5 };
    expect(check("How do I fix the Wi-Fi?", "Forget the network and join it again with your badge password.", [prose])).toBeUndefined();
    expect(check("How do I fix the Wi-Fi?", "Forget the network and join it again.", [])).toBeUndefined();
  });

  it("fails a command where the notes are prose advice with no command", () => {
    const laptops = kbPage("laptops-and-hardware.md", "Laptops, monitors and other hardware");
    expect(check("my laptop battery drains overnight, what can I do?", "`sudo Laptop battery drains` — do not-renitors and other hards.", [laptops])).toMatchObject({ category: "ungrounded" });
  });
});

describe("Critic with command grounding", () => {
  const critic = (groundCommands?: boolean) => new Critic({ model: new FakeChatModel(), embeddings: fixtureEmbeddings(), mode: "heuristic", ...(groundCommands === undefined ? {} : { groundCommands }) });

  it("fails by default what the words-only critic passes, and keeps the reason", async () => {
    const input = { question: "how do I extract a tar.gz archive?", answer: "`tar.tar.gz -xzf backup.tar.gz` — show do a tar.", passages: [archives] };
    const wordsOnly = await critic(false).critique(input);
    expect(wordsOnly.value.score).toBeGreaterThanOrEqual(0.5);
    const grounded = await critic().critique(input);
    expect(grounded.value.score).toBeLessThan(0.5);
    expect(grounded.value.category).toBe("ungrounded");
    expect(grounded.value.reasons.at(-1)).toMatch(/not a command the retrieved notes use/);
  });
});
