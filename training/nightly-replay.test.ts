import { describe, expect, it } from "vitest";
import { renderPrompt } from "../models/prompt-template.js";
import { nightlyTrainingSet, type NightlyExample } from "./nightly-replay.js";

const example = (id: string, answer = `answer ${id}`): NightlyExample => ({
  id,
  messages: [
    { role: "system", content: "Answer from the notes." },
    { role: "user", content: `question ${id}` },
  ],
  answer,
});

describe("nightlyTrainingSet", () => {
  it("renders fixes with the serving prompt and the stop marker", () => {
    const fix = example("f1", "`tar xf a.tar` — extract.");
    const [row] = nightlyTrainingSet({ fixes: [fix] });
    expect(row).toEqual({ id: "f1", kind: "fix", prompt: renderPrompt(fix.messages), completion: "`tar xf a.tar` — extract.\n###" });
  });

  it("replays ⌈ratio × fixes⌉ passing answers, interleaved with the fixes", () => {
    const fixes = [example("f1"), example("f2"), example("f3")];
    const replay = ["r1", "r2", "r3", "r4", "r5", "r6", "r7"].map((id) => example(id));
    const rows = nightlyTrainingSet({ fixes, replay, replayRatio: 1.5 });
    expect(rows.map((row) => row.id)).toEqual(["f1", "r1", "r2", "f2", "r3", "f3", "r4", "r5"]);
    expect(rows.filter((row) => row.kind === "replay")).toHaveLength(5);
  });

  it("picks the passing answers nearest to the fixes (what a fix is most likely to break), or the first ones given", () => {
    const ask = (id: string, question: string): NightlyExample => ({ ...example(id), question });
    const fixes = [ask("f1", "How do I extract an archive using tar?"), ask("f2", "How do I follow a log file using tail?")];
    const replay = [ask("ls", "How do I list hidden files using ls?"), ask("tail", "How do I show the last lines of a file using tail?"), ask("tar", "How do I create an archive using tar?"), ask("grep", "How do I search a file using grep?")];
    expect(nightlyTrainingSet({ fixes, replay, replayRatio: 1 }).map((row) => row.id)).toEqual(["f1", "tar", "f2", "tail"]);
    expect(nightlyTrainingSet({ fixes, replay, replayRatio: 1, pick: "first" }).map((row) => row.id)).toEqual(["f1", "ls", "f2", "tail"]);
    // without a question field, the last user message is compared
    const byMessage = (id: string, question: string): NightlyExample => ({ ...example(id), messages: [{ role: "user", content: question }] });
    expect(nightlyTrainingSet({ fixes: [byMessage("f", "extract an archive using tar")], replay: [byMessage("a", "list files using ls"), byMessage("b", "create an archive using tar")], replayRatio: 1 })[1]!.id).toBe("b");
  });

  it("trains on fixes only with ratio 0, and never replays a question that is also a fix", () => {
    expect(nightlyTrainingSet({ fixes: [example("f1")], replay: [example("r1")] }).map((row) => row.id)).toEqual(["f1"]);
    const rows = nightlyTrainingSet({ fixes: [example("f1")], replay: [example("f1", "old answer"), example("r1")], replayRatio: 1 });
    expect(rows.map((row) => [row.id, row.kind])).toEqual([
      ["f1", "fix"],
      ["r1", "replay"],
    ]);
  });

  it("uses what replay there is when there are fewer passing answers than the ratio asks", () => {
    expect(nightlyTrainingSet({ fixes: [example("f1"), example("f2")], replay: [example("r1")], replayRatio: 2 }).map((row) => row.id)).toEqual(["f1", "r1", "f2"]);
  });
});

