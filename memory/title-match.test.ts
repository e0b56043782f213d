import { describe, expect, it } from "vitest";
import { namedTitles, titleWords } from "./title-match.js";

const titles = ["ssh", "ssh-keygen", "cp", "git commit", "git", "VPN › Errors", "g++", "find", "file"].map(titleWords);

describe("namedTitles: the pages a question names", () => {
  it("splits titles and questions into lowercase words (dashes and punctuation split, + and # stay)", () => {
    expect(titleWords("ssh-keygen")).toEqual(["ssh", "keygen"]);
    expect(titleWords("What g++ flag, using `cp`?")).toEqual(["what", "g++", "flag", "using", "cp"]);
  });

  it("finds a page the question names as a tool, as whole words only", () => {
    expect(namedTitles("What cp command would copy a folder recursively?", titles)).toEqual(new Set([2]));
    expect(namedTitles("How do I copy files?", titles)).toEqual(new Set());
    expect(namedTitles("Which cpu do I have?", titles)).toEqual(new Set());
    expect(namedTitles("Build it with g++", titles)).toEqual(new Set([6]));
  });

  it("names the longest title only: 'ssh keygen' names ssh-keygen, not ssh", () => {
    expect(namedTitles("Show me the ssh keygen command to retrieve a public key.", titles)).toEqual(new Set([1]));
    expect(namedTitles("How do I generate a key using ssh-keygen?", titles)).toEqual(new Set([1]));
    expect(namedTitles("How do I amend using git commit?", titles)).toEqual(new Set([3]));
    expect(namedTitles("How do I connect with ssh and then run git?", titles)).toEqual(new Set([0]));
  });

  it("needs every word of a multi-word title, in a row", () => {
    expect(namedTitles("How do I amend it with the git commit command?", titles)).toEqual(new Set([3]));
    expect(namedTitles("How do I fix it using vpn errors?", titles)).toEqual(new Set([5]));
    expect(namedTitles("errors on the vpn", titles)).toEqual(new Set());
  });

  it("does not count a page whose name is only a word of the question (kb/ questions, measured: 10 of 80 lost their answer)", () => {
    expect(namedTitles("How do I find my IP address on Linux?", titles)).toEqual(new Set());
    expect(namedTitles("How do I see the history of a file?", titles)).toEqual(new Set());
    expect(namedTitles("ssh warns that the remote host identification has changed. Is that dangerous?", titles)).toEqual(new Set());
    expect(namedTitles("How do I save my changes in git?", titles)).toEqual(new Set());
  });
});
