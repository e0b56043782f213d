import { describe, expect, it } from "vitest";
import { buildSpmVocab, learnBpe, preTokenize, SPM_SPACE, toSpmText, TOKEN_TYPE } from "./index.js";

const TEXT = "reset the password\nreset the printer\nthe password reset page\nuse `ls -la` to list files; 42 files\n".repeat(5);

describe("learnBpe", () => {
  it("splits SPM text into ▁-prefixed words, numbers, punctuation and newlines", () => {
    expect(preTokenize(toSpmText("reset it, 42 times\nok"))).toEqual(["▁reset", "▁it", ",", "▁42", "▁times", "\n", "ok"]);
  });

  it("learns frequent words as pieces, deterministically, never crossing letter/punctuation boundaries", () => {
    const first = learnBpe({ text: TEXT, pieces: 60 });
    const second = learnBpe({ text: TEXT, pieces: 60 });
    expect(second).toEqual(first);
    expect(first.pieces).toHaveLength(60);
    expect(first.pieces).toContain(`${SPM_SPACE}the`);
    expect(first.pieces).toContain(`${SPM_SPACE}password`);
    expect(first.pieces.some((piece) => /\p{L}[,;`]|[,;`]\p{L}/u.test(piece))).toBe(false);
    // Characters come first, then merges in the order they were learned.
    expect(first.pieces.slice(0, first.characters).every((piece) => [...piece].length === 1)).toBe(true);
    expect(first.merges).toBe(60 - first.characters);
  });

  it("leaves rare characters to byte fallback and stops when nothing is left to merge", () => {
    const result = learnBpe({ text: "ab ab ab é", pieces: 1000 });
    expect(result.pieces).not.toContain("é");
    expect(result.pieces.length).toBeLessThan(1000);
  });
});

describe("buildSpmVocab", () => {
  it("lays out specials, 256 byte tokens, then pieces with descending scores", () => {
    const vocab = buildSpmVocab(["▁", "a", "▁a", "a"]);
    expect(vocab.tokens.slice(0, 3)).toEqual(["<unk>", "<s>", "</s>"]);
    expect(vocab.tokens[3]).toBe("<0x00>");
    expect(vocab.tokens[3 + 0x0a]).toBe("<0x0A>");
    expect(vocab.tokens[258]).toBe("<0xFF>");
    expect(vocab.tokens.slice(259)).toEqual(["▁", "a", "▁a"]);
    expect(vocab.scores.slice(259)).toEqual([-0, -1, -2]);
    expect(vocab.tokenTypes.slice(0, 4)).toEqual([TOKEN_TYPE.unknown, TOKEN_TYPE.control, TOKEN_TYPE.control, TOKEN_TYPE.byte]);
    expect(vocab.tokenTypes[259]).toBe(TOKEN_TYPE.normal);
  });
});
