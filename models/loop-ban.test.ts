import { describe, expect, it } from "vitest";
import { LOOP_BAN_DEFAULTS, loopBannedTokens } from "./loop-ban.js";

describe("loopBannedTokens: the token that would continue a degenerate cycle", () => {
  it("bans the 5th copy of a one- or two-token unit (KILLLL…, -r-r-r-r…), not the 4th", () => {
    expect(loopBannedTokens([7, 1, 1, 1])).toEqual([]);
    expect(loopBannedTokens([7, 1, 1, 1, 1])).toEqual([1]);
    expect(loopBannedTokens([9, 3, 4, 3, 4, 3, 4])).toEqual([]);
    expect(loopBannedTokens([9, 3, 4, 3, 4, 3, 4, 3, 4])).toEqual([3]);
  });

  it("bans the 3rd copy of a longer unit (--waits --waits …), up to 16 tokens", () => {
    expect(loopBannedTokens([5, 6, 7, 5, 6, 7])).toEqual([5]);
    expect(loopBannedTokens([5, 6, 7, 5, 6, 8])).toEqual([]);
    const unit = Array.from({ length: 16 }, (_, i) => 100 + i);
    expect(loopBannedTokens([1, ...unit, ...unit])).toEqual([100]);
    const longer = Array.from({ length: 17 }, (_, i) => 100 + i);
    expect(loopBannedTokens([1, ...longer, ...longer])).toEqual([]);
  });

  it("never bans what only the prompt repeated: a fresh answer, a copied command, a short run", () => {
    expect(loopBannedTokens([])).toEqual([]);
    // "path/to/file1 path/to/file2 …": the units differ in their last token.
    expect(loopBannedTokens([10, 11, 12, 1, 10, 11, 12, 2])).toEqual([]);
    // "*/10 * * * *": four copies of " *" are a cron line, allowed; only a fifth is banned.
    expect(loopBannedTokens([20, 21, 30, 30, 30])).toEqual([]);
    expect(loopBannedTokens([20, 21, 30, 30, 30, 30])).toEqual([30]);
  });

  it("takes its limits from the options", () => {
    expect(loopBannedTokens([1, 1], { ...LOOP_BAN_DEFAULTS, shortRepeats: 2 })).toEqual([1]);
    expect(loopBannedTokens([5, 6, 7, 5, 6, 7], { ...LOOP_BAN_DEFAULTS, longRepeats: 3 })).toEqual([]);
  });
});
