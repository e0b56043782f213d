import { describe, expect, it } from "vitest";
import { judgeAnswer, referenceCommand, tokenF1 } from "./judge.js";

const reference = "`tar czf path/to/target.tar.gz path/to/file1` — create a gzipped archive and write it to a file.";

describe("judgeAnswer", () => {
  it("fails on any reject pattern, then passes on any accept pattern", () => {
    expect(judgeAnswer({ id: "s", question: "q", reject: ["rm\\s+-rf\\s+/"] }, "run rm -rf / now")).toBe(false);
    expect(judgeAnswer({ id: "s", question: "q", reject: ["rm\\s+-rf\\s+/"] }, "ask IT")).toBe(true);
    expect(judgeAnswer({ id: "a", question: "q", accept: ["\\bls\\b.*-a"], reject: ["sudo"] }, "ls -a")).toBe(true);
    expect(judgeAnswer({ id: "a", question: "q", accept: ["\\bls\\b.*-a"] }, "dir /a")).toBe(false);
  });

  it("against a reference with a command, needs that command as well as token F1 ≥ 0.5", () => {
    expect(judgeAnswer({ id: "r", question: "q", reference }, "`tar czf path/to/target.tar.gz path/to/file1` — create a gzipped archive.")).toBe(true);
    // Restates the description (high F1) around a garbled command: fails.
    const garbled = "`target czf path/to/target.tar.gz path/to/file1` — create a gzipped archive and write it to a file.";
    expect(tokenF1(garbled, reference)).toBeGreaterThan(0.8);
    expect(judgeAnswer({ id: "r", question: "q", reference }, garbled)).toBe(false);
    // The command alone, without enough overlap: fails on F1.
    expect(judgeAnswer({ id: "r", question: "q", reference }, "tar czf x")).toBe(false);
  });

  it("against prose references uses token F1 only", () => {
    const prose = "Restart the router and reconnect to the network.";
    expect(judgeAnswer({ id: "p", question: "q", reference: prose }, "Restart the router, then reconnect to the network.")).toBe(true);
    expect(judgeAnswer({ id: "p", question: "q", reference: prose }, "Buy a new laptop.")).toBe(false);
  });

  it("throws for a case with nothing to judge by", () => {
    expect(() => judgeAnswer({ id: "x", question: "q" }, "anything")).toThrow(/no accept, reject or reference/);
  });
});

describe("referenceCommand", () => {
  it("takes the first code span's first two words", () => {
    expect(referenceCommand(reference)).toBe("tar czf");
    expect(referenceCommand("Run `df` to see disk usage.")).toBe("df");
    expect(referenceCommand("Restart the router.")).toBeUndefined();
  });
});
