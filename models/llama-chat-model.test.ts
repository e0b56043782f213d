import { describe, expect, it } from "vitest";
import { defaultThreads, SMALL_MODEL_BYTES } from "./llama-slot-context.js";

describe("defaultThreads", () => {
  it("uses one thread per context for small models such as the seedling", () => {
    expect(defaultThreads(2_584_704)).toBe(1);
    expect(defaultThreads(SMALL_MODEL_BYTES - 1)).toBe(1);
  });
  it("leaves larger models to node-llama-cpp's default", () => {
    expect(defaultThreads(SMALL_MODEL_BYTES)).toBeUndefined();
    expect(defaultThreads(4 * 1024 ** 3)).toBeUndefined();
  });
});
