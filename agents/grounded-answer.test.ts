import { describe, expect, it } from "vitest";
import { groundedAnswer } from "./grounded-answer.js";

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
