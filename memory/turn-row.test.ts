import { describe, expect, it } from "vitest";
import { makeTurn } from "./memory-store.contract.js";
import { countTurns, exactSearch, turnFromCells, turnToCells } from "./turn-row.js";

const unit = (...values: number[]) => Float32Array.from(values);

describe("turn rows shared by the stores", () => {
  it("a turn goes to row cells and back unchanged", () => {
    const turn = makeTurn({ reasons: ["no source"], feedback: { rating: -1, at: 5 } });
    expect(turnFromCells(turnToCells(turn))).toEqual(turn);
  });

  it("a row that does not match the turn schema is MEMORY_CORRUPT naming the trace (Postgres rows are checked too now)", () => {
    const cells = { ...turnToCells(makeTurn({ traceId: "t-bad" })), reasons: "not a list" };
    expect(() => turnFromCells(cells)).toThrow(expect.objectContaining({ code: "MEMORY_CORRUPT", message: expect.stringContaining("t-bad") }));
  });

  it("exact search ranks by inner product, older first on ties, after the filter; counts by success", () => {
    const entries = [
      { turn: makeTurn({ traceId: "a", success: true }), vector: unit(1, 0), seq: 0 },
      { turn: makeTurn({ traceId: "b", success: false }), vector: unit(0, 1), seq: 1 },
      { turn: makeTurn({ traceId: "c", success: true }), vector: unit(1, 0), seq: 2 },
    ];
    expect(exactSearch(entries, unit(1, 0), { k: 2, filter: {} }).map((hit) => [hit.record.traceId, hit.score])).toEqual([["a", 1], ["c", 1]]);
    expect(exactSearch(entries, unit(1, 0), { k: 3, filter: { success: false } }).map((hit) => hit.record.traceId)).toEqual(["b"]);
    expect(countTurns(entries)).toEqual({ total: 3, success: 2, failure: 1 });
  });
});
