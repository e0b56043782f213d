import { describe, expect, it } from "vitest";
import type { PassageHit } from "../memory/types.js";
import { fallbackAnswer, pageName } from "./fallback-answer.js";

const hit = (id: string, title: string, text: string, score = 0.5): PassageHit => ({ passage: { id, source: `${id}.md`, title, text }, score });

describe("fallbackAnswer", () => {
  it("quotes the unit whose description answers the question, with its page", () => {
    const passages = [hit("tar", "tar", "- Extract a (compressed) archive file into the current directory:\n\n`tar xf {{path/to/source.tar[.gz|.bz2|.xz]}}`")];
    expect(fallbackAnswer("How do I extract a compressed archive file into the current directory using tar?", passages)).toEqual({
      answer: "From the tar page: `tar xf path/to/source.tar.gz` — extract a (compressed) archive file into the current directory.",
      page: "tar",
    });
  });

  it("says I don't know, naming the closest passage, when no unit answers the question (words in common are not enough)", () => {
    const passages = [hit("printing", "Printing › Badges", "- Badge not recognised: register it once by tapping it and entering your user name and password.")];
    const result = fallbackAnswer("How do I reset a user password?", passages);
    expect(result.answer).toMatch(/^I don't know for sure\. The closest note I have is the Printing page: /);
  });

  it("says I don't know when nothing was retrieved", () => {
    expect(fallbackAnswer("what is the capital of France?", [])).toEqual({ answer: expect.stringMatching(/^I don't know, and my notes have nothing on this yet/) });
  });

  it("names a page by its document title", () => {
    expect(pageName("Archives and compression: tar, gzip and zip › Questions and answers")).toBe("Archives and compression");
    expect(pageName("tar")).toBe("tar");
  });
});
