import { describe, expect, it } from "vitest";
import { fitWords, parseQuestion, stem, taskFit } from "./question-fit.js";

describe("parseQuestion", () => {
  it.each([
    ["How do I create a gzipped archive and write it to a file using tar?", "create a gzipped archive and write it to a file", ["tar"]],
    ["How do I show a commit using git commit?", "show a commit", ["git", "commit"]],
    ["What tar command would list the contents of a tar file?", "list the contents of a tar file", ["tar"]],
    ["Show me the ls command to list all files.", "list all files", ["ls"]],
    ["With grep, how can I search a file?", "search a file", ["grep"]],
    ["how do I see which process uses port 8080?", "see which process uses port 8080", []],
    ["which process is using port 8080?", "which process is using port 8080", []],
    ["I forgot my password. How do I reset it?", "I forgot my password. reset it", []],
  ])("%s", (question, task, tools) => {
    expect(parseQuestion(question)).toEqual({ task, tools });
  });
});

describe("taskFit", () => {
  it("is 1 for the description itself, folds synonyms and word forms", () => {
    expect(taskFit({ task: fitWords("delete the present folders"), description: "Remove the current directory" }).score).toBe(1);
    expect(stem("archives")).toBe(stem("archived"));
  });

  it("costs most for a question word the description does not cover", () => {
    const task = fitWords("find large files in my home directory");
    const pdf = taskFit({ task, description: "find all PDF files under my home folder" });
    expect(pdf.recall).toBeCloseTo(0.8);
    expect(pdf.score).toBeLessThan(0.6);
  });

  it("a negated word is not what a unit does: 'without extracting it' does not answer 'extract'", () => {
    const task = fitWords("extract a tar.gz archive");
    const negated = taskFit({ task, description: "see what is inside an archive without extracting it" });
    const plain = taskFit({ task, description: "Extract: unpacks into the current folder", about: "tar -xzf backup.tar.gz" });
    expect(negated.score).toBeLessThan(plain.score);
    expect(negated.recall).toBeLessThan(1);
  });
});
