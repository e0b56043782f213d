import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { commandsIn } from "../../agents/index.js";
import type { BenchItem } from "./items.js";
import { deriveAccept } from "./tldr.js";

/** A kb/ question with the file whose passages answer it. */
export interface KbQuestion extends BenchItem {
  /** kb/ file name, e.g. `linux-file-permissions.md`. */
  file: string;
}

/** The kb/ questions whose answer quotes a command (`Q:` + `A:` lines), judged by that command's tool and options. */
export function kbItems(dir: string): KbQuestion[] {
  const items: KbQuestion[] = [];
  for (const file of readdirSync(dir).filter((name) => name.endsWith(".md")).sort()) {
    const lines = readFileSync(join(dir, file), "utf8").split("\n");
    lines.forEach((line, index) => {
      const question = /^Q:\s*(.+)$/.exec(line)?.[1];
      const answer = /^A:\s*(.+)$/.exec(lines[index + 1] ?? "")?.[1];
      const command = answer === undefined ? undefined : commandsIn(answer)[0];
      const tool = command?.replace(/^sudo\s+/, "").split(/\s+/)[0];
      const accept = command === undefined || tool === undefined ? undefined : deriveAccept({ page: tool, command });
      if (question !== undefined && accept !== undefined) items.push({ id: `${file}:${index + 1}`, file, question, accept: [accept] });
    });
  }
  return items;
}

/**
 * Plain-English questions a newcomer asks, in their own words (not the kb's `Q:` lines), each with the kb/ page that
 * answers it. Written for the retrieval bench (bench/retrieval-recall.ts); `accept` is the command the page gives.
 */
const NATURAL: Array<[string, string, string]> = [
  ["how can I find out which user owns a file?", "linux-file-permissions.md", "ls -l"],
  ["who is the owner of this folder and can I change it?", "linux-file-permissions.md", "chown"],
  ["give a file to another user", "linux-file-permissions.md", "chown"],
  ["how do I let my script run?", "linux-file-permissions.md", "chmod"],
  ["what does rwxr-x--- mean in a listing?", "linux-file-permissions.md", "ls -l"],
  ["how much space is left on my disk?", "linux-disks.md", "df -h"],
  ["which folders are taking up all my space?", "linux-disks.md", "du"],
  ["unpack a tar.gz file", "linux-archives.md", "tar"],
  ["how do I make a zip of a folder?", "linux-archives.md", "zip"],
  ["how do I stop a program that hangs?", "linux-processes.md", "kill"],
  ["what is using all my CPU?", "linux-processes.md", "top"],
  ["how do I see the latest errors of a service?", "linux-logs.md", "journalctl"],
  ["how can I check that a website is reachable from my machine?", "linux-networking.md", "ping"],
  ["which program is listening on port 8080?", "linux-networking.md", "ss"],
  ["how do I install a program on Ubuntu?", "linux-packages.md", "apt"],
  ["how do I log in to a remote server?", "linux-ssh.md", "ssh"],
  ["copy a file to another machine over the network", "linux-ssh.md", "scp"],
  ["search for a word in many files", "linux-text-tools.md", "grep"],
  ["which groups am I a member of?", "linux-users-and-groups.md", "groups"],
  ["how do I add someone to a group?", "linux-users-and-groups.md", "usermod"],
  ["make a job run every night at 2", "linux-services-and-scheduling.md", "crontab"],
  ["restart a service that crashed", "linux-services-and-scheduling.md", "systemctl"],
  ["where is a file I saved somewhere under my home folder?", "linux-files-and-directories.md", "find"],
  ["how do I undo my last commit?", "git-basics.md", "git"],
];

/**
 * More of the same, written after `kb.lexicalWeight` was chosen on {@link NATURAL} and never tuned on: a check that
 * the gain is not fitted to the questions above.
 */
const NATURAL_UNTUNED: Array<[string, string, string]> = [
  ["what is my computer's IP address?", "linux-networking.md", "ip"],
  ["the disk is full, what can I delete safely?", "linux-disks.md", "du"],
  ["how do I see the contents of a compressed log?", "linux-archives.md", "zcat"],
  ["how can I tell who I am logged in as?", "linux-users-and-groups.md", "whoami"],
  ["see every program running on the machine", "linux-processes.md", "ps"],
  ["how do I change the permissions so only I can read a file?", "linux-file-permissions.md", "chmod"],
  ["how do I switch to another branch?", "git-basics.md", "git"],
  ["how do I follow a log file as it grows?", "linux-logs.md", "tail"],
  ["set up key login instead of typing my password for ssh", "linux-ssh.md", "ssh-keygen"],
  ["is the nginx service running?", "linux-services-and-scheduling.md", "systemctl"],
  ["how do I count the lines in a file?", "linux-text-tools.md", "wc"],
  ["get rid of a folder and everything in it", "linux-files-and-directories.md", "rm"],
];

/** Asked by hand on a fresh data dir and answered wrong (closing notes of 2026-12-06): kept as regression checks. */
const NATURAL_REPORTED: Array<[string, string, string]> = [
  ["which process is using port 8080?", "linux-networking.md", "ss"],
  ["how do I see which folders use the most disk space?", "linux-disks.md", "du"],
];

const toItems = (questions: Array<[string, string, string]>, prefix: string): KbQuestion[] =>
  questions.map(([question, file, command], index) => ({ id: `${prefix}-${index}`, file, question, accept: [deriveAccept({ page: command.split(" ")[0]!, command }) ?? command] }));

/** The natural kb/ questions as bench items (accept: the tool's name as a command word). */
export function kbNaturalItems(): KbQuestion[] {
  return toItems(NATURAL, "kb-natural");
}

/** {@link NATURAL_UNTUNED} as bench items. */
export function kbNaturalUntunedItems(): KbQuestion[] {
  return toItems(NATURAL_UNTUNED, "kb-natural-untuned");
}

export function kbNaturalReportedItems(): KbQuestion[] {
  return toItems(NATURAL_REPORTED, "kb-natural-reported");
}
