import { describe, expect, it } from "vitest";
import { CouncilError } from "../../core/index.js";
import { compileAccept, itemsToJsonl, judgeAnswer, parseItemsJsonl } from "./items.js";

describe("pass/fail judging", () => {
  const accept = compileAccept({ id: "1", question: "q", accept: ["tar\\s+-?x", "unzip"] });
  it("passes when any accept regex matches the answer", () => {
    expect(judgeAnswer({ answer: "Run `tar -xf a.tar`", accept })).toBe(true);
    expect(judgeAnswer({ answer: "Use unzip a.zip", accept })).toBe(true);
  });
  it("fails when none matches (case-sensitive, no flags)", () => {
    expect(judgeAnswer({ answer: "Run tar -cf a.tar", accept })).toBe(false);
    expect(judgeAnswer({ answer: "UNZIP it", accept })).toBe(false);
    expect(judgeAnswer({ answer: "", accept })).toBe(false);
  });
});

describe("JSONL items", () => {
  it("parses items, ignores extra fields and blank lines, round-trips", () => {
    const items = parseItemsJsonl({ text: '{"id":"a","question":"q?","accept":["x"],"extra":1}\n\n{"id":"b","question":"r?","accept":["y","z"]}\n', source: "t.jsonl" });
    expect(items).toEqual([{ id: "a", question: "q?", accept: ["x"] }, { id: "b", question: "r?", accept: ["y", "z"] }]);
    expect(parseItemsJsonl({ text: itemsToJsonl(items), source: "again" })).toEqual(items);
  });

  it.each([
    ["not json", "t.jsonl:1"],
    ['{"id":"a","question":"q","accept":[]}', "accept"],
    ['{"id":"a","question":"q","accept":["("]}', "not a valid regular expression"],
    ['{"id":"a","question":"q","accept":["x"]}\n{"id":"a","question":"r","accept":["x"]}', "t.jsonl:2: duplicate id"],
    ["", "no items"],
  ])("rejects %j with DATASET_INVALID", (text, message) => {
    let error: unknown;
    try {
      parseItemsJsonl({ text, source: "t.jsonl" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CouncilError);
    expect((error as CouncilError).code).toBe("DATASET_INVALID");
    expect((error as CouncilError).message).toContain(message);
  });
});
