import { describe, expect, it } from "vitest";
import { groundedAnswer, groundedAnswers } from "./grounded-answer.js";

const hit = (id: string, text: string) => ({ passage: { id, source: "tar.md", title: "tar", text }, score: 1 });

describe("groundedAnswer", () => {
  it("answers with the command, then its description, for a tldr passage as the knowledge base stores it", () => {
    const answer = groundedAnswer("How do I create a gzipped archive and write it to a file using tar?", [
      hit("a", "create a gzipped archive and write it to a file:\n`tar czf {{path/to/target.tar.gz}} {{path/to/file1}}`"),
      hit("b", "extract an archive:\n`tar xf {{source.tar}}`"),
    ]);
    expect(answer).toMatchObject({ passageId: "a", answer: "`tar czf path/to/target.tar.gz path/to/file1` — create a gzipped archive and write it to a file." });
  });

  it("keeps prose lines ending in a colon that have no command as their own answer", () => {
    const answer = groundedAnswer("what should I check when wifi drops", [hit("w", "When wifi drops, check these:\n\nRestart the router and reconnect.")]);
    expect(answer?.answer).toBe("When wifi drops, check these");
  });
});

describe("groundedAnswers", () => {
  const tar = (id: string, description: string, command: string) => ({ passage: { id, source: "tar.md", title: "tar", text: `${description}:\n\`${command}\`` }, score: 1 });
  const passages = [
    tar("into-target", "E[x]tract a (compressed) archive [f]ile into the target directory", "tar xf {{path/to/source.tar[.gz|.bz2|.xz]}} {{[-C|--directory]}} {{path/to/directory}}"),
    tar("verbose", "E[x]tract a (compressed) archive [f]ile into the current directory [v]erbosely", "tar xvf {{path/to/source.tar[.gz|.bz2|.xz]}}"),
    tar("list", "Lis[t] the contents of a tar [f]ile [v]erbosely", "tar tvf {{path/to/source.tar}}"),
  ];

  it("lets the unit whose description is the question win over a higher-ranked passage, and renders its command as typed", () => {
    const [best] = groundedAnswers("How do I extract a (compressed) archive file into the current directory verbosely using tar?", passages);
    expect(best).toMatchObject({ passageId: "verbose", answer: "`tar xvf path/to/source.tar.gz` — extract a (compressed) archive file into the current directory verbosely.", fit: 1 });
  });

  it("matches a paraphrase with everyday synonyms", () => {
    const [best] = groundedAnswers("With tar, how can I extract a (compressed) archive file into the present folder verbosely?", passages);
    expect(best?.passageId).toBe("verbose");
  });

  it("proposes several distinct units, each a command that parses", () => {
    const answers = groundedAnswers("How do I extract an archive into a directory using tar?", passages);
    expect(answers.map((answer) => answer.passageId)).toEqual(["into-target", "verbose", "list"]);
    expect(answers[0]!.answer).toBe("`tar xf path/to/source.tar.gz -C path/to/directory` — extract a (compressed) archive file into the target directory.");
    expect(answers.every((answer) => !/\{\{|\[-/.test(answer.answer))).toBe(true);
  });
});
