import { describe, expect, it } from "vitest";
import type { PassageHit } from "../memory/types.js";
import { distinctiveWords } from "./distinctive-words.js";

const hit = (id: string, title: string, text: string): PassageHit => ({ passage: { id, source: `${id}.md`, title, text }, score: 0.5 });

/** Document frequencies as on kb/ (295 passages): "port" is rarer than "find" and "process", "hang" rarest of all. */
const KB_FREQUENCY: Record<string, number> = { find: 17, process: 14, port: 11, stop: 29, program: 31, hangs: 2, uses: 53 };
const documentFrequency = (word: string) => (word in KB_FREQUENCY ? KB_FREQUENCY[word] : 0);

const PROCESSES = hit("processes", "Processes › Questions and answers", "Q: How do I find the process id of a program?\nA: Run `pgrep -a programname`.");
const SERVICES = hit("services", "Services › Questions and answers", "Q: Why does my web service not start?\nA: Another program may use its port: run `systemctl status servicename`.");
const STOPPING = hit("stopping", "Processes › Stopping a process", "`kill 1234` asks process 1234 to stop. Find the program's PID first.");

describe("distinctiveWords", () => {
  it("picks the question's rarest word in the knowledge base among those the retrieved passages use", () => {
    expect(distinctiveWords("how do I find which process uses a port?", [PROCESSES, SERVICES], documentFrequency)).toEqual(new Set(["port"]));
  });

  it("leaves out a word no retrieved passage uses, however rare: the notes cannot answer it either way", () => {
    expect(distinctiveWords("how do I find which process uses a port?", [PROCESSES], documentFrequency)).toEqual(new Set(["process"]));
    expect(distinctiveWords("how do I stop a program that hangs?", [STOPPING], documentFrequency)).toEqual(new Set(["stop"]));
  });

  it("leaves out a word the question negates (the unit that answers negates it too)", () => {
    const mv = hit("mv", "mv", "- Do not overwrite existing files at the target:\n\n`mv {{[-n|--no-clobber]}} {{path/to/source}} {{path/to/target}}`");
    const frequency: Record<string, number> = { overwrite: 5, existing: 16, files: 268, target: 22 };
    expect(distinctiveWords("How do I do not overwrite existing files at the target using mv?", [mv], (word) => frequency[word] ?? 0)).toEqual(new Set(["target"]));
  });

  it("keeps every word tied for rarest", () => {
    expect(distinctiveWords("stop a program", [STOPPING], () => 5)).toEqual(new Set(["stop", "program"]));
  });

  it("is empty when the knowledge base knows none of the question's words", () => {
    expect(distinctiveWords("how do I find which process uses a port?", [PROCESSES, SERVICES], () => 0)).toEqual(new Set());
    expect(distinctiveWords("how do I find which process uses a port?", [], documentFrequency)).toEqual(new Set());
  });
});
