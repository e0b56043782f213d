import { describe, expect, it } from "vitest";
import { isCouncilError } from "../core/index.js";
import { makeTurn } from "./memory-store.contract.js";
import { checkVector, matchesFilter, parseFailureQuery, parseSearchOptions, withFeedback } from "./turn-schema.js";

const code = (work: () => unknown) => {
  try {
    work();
  } catch (error) {
    return isCouncilError(error) ? error.code : "not a CouncilError";
  }
  return "no error";
};

describe("checkVector (guards faiss-node, which aborts on bad input)", () => {
  it("accepts a finite vector of the right length as Float32Array", () => {
    expect(checkVector([0.5, -0.5, 0], 3)).toEqual(new Float32Array([0.5, -0.5, 0]));
  });
  it("rejects wrong length, NaN, infinities and float32 overflow", () => {
    expect(code(() => checkVector([1, 2], 3))).toBe("VECTOR_INVALID");
    expect(code(() => checkVector([1, Number.NaN, 2], 3))).toBe("VECTOR_INVALID");
    expect(code(() => checkVector([1, Number.POSITIVE_INFINITY, 2], 3))).toBe("VECTOR_INVALID");
    expect(code(() => checkVector([1, 1e39, 2], 3))).toBe("VECTOR_INVALID");
  });
});

describe("queries and feedback", () => {
  it("validates time windows and search options", () => {
    expect(parseFailureQuery({ since: 1, until: 2, limit: 3 })).toEqual({ since: 1, until: 2, limit: 3 });
    expect(code(() => parseFailureQuery({ since: -1 }))).toBe("MEMORY_QUERY_INVALID");
    expect(code(() => parseFailureQuery({ since: 5, until: 4 }))).toBe("MEMORY_QUERY_INVALID");
    expect(parseSearchOptions({})).toEqual({ k: 5, filter: {} });
    expect(code(() => parseSearchOptions({ k: 1001 }))).toBe("MEMORY_QUERY_INVALID");
  });
  it("the user's rating decides success", () => {
    const turn = makeTurn({ success: true });
    expect(withFeedback(turn, { rating: -1, at: 1 }, 99)).toMatchObject({ success: false, updatedAt: 99 });
    expect(withFeedback({ ...turn, success: false }, { rating: 1, at: 1 }, 99).success).toBe(true);
  });
  it("filters match on every given field, null adapter meaning the base model", () => {
    const turn = makeTurn({ adapter: null, route: "vpn", success: false });
    expect(matchesFilter(turn, { adapter: null, route: "vpn" })).toBe(true);
    expect(matchesFilter(turn, { adapter: "v1" })).toBe(false);
    expect(matchesFilter(turn, { success: true })).toBe(false);
  });
});
