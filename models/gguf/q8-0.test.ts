import { describe, expect, it } from "vitest";
import { dequantizeQ8_0, f16ToF32, f32ToF16, quantizeQ8_0, Q8_0_BLOCK_BYTES } from "./q8-0.js";
import { SeededRandom } from "./seeded-random.js";

describe("Q8_0", () => {
  it("converts f32 ↔ f16 like IEEE binary16 (round to nearest even, subnormals, overflow)", () => {
    expect(f32ToF16(1)).toBe(0x3c00);
    expect(f32ToF16(-2)).toBe(0xc000);
    expect(f32ToF16(65504)).toBe(0x7bff);
    expect(f32ToF16(1e6)).toBe(0x7c00);
    expect(f32ToF16(2 ** -24)).toBe(0x0001);
    expect(f32ToF16(0.1)).toBe(0x2e66);
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    for (const value of [0, 1, -1.5, 0.000123, 3.14159, 2 ** -20]) expect(Math.abs(f16ToF32(f32ToF16(value)) - value)).toBeLessThanOrEqual(Math.abs(value) * 2 ** -11);
  });

  it("writes a block as f16 scale max|x|/127 then 32 int8 (ggml layout), and round-trips within half a step", () => {
    const values = new Float32Array(32).map((_, index) => (index - 16) / 8); // -2 … 1.875
    const bytes = quantizeQ8_0(values);
    expect(bytes.length).toBe(Q8_0_BLOCK_BYTES);
    const view = new DataView(bytes.buffer);
    expect(f16ToF32(view.getUint16(0, true))).toBeCloseTo(2 / 127, 5);
    expect(view.getInt8(2)).toBe(-127); // -2 is max|x|
    expect(view.getInt8(2 + 16)).toBe(0);
    const back = dequantizeQ8_0(bytes);
    for (let index = 0; index < 32; index++) expect(Math.abs(back[index]! - values[index]!)).toBeLessThanOrEqual((2 / 127) * 0.51);
  });

  it("round-trips random blocks within tolerance, all-zero blocks exactly, and rejects bad lengths", () => {
    const random = new SeededRandom(7);
    const values = random.normalArray(32 * 64, 0.02);
    const back = dequantizeQ8_0(quantizeQ8_0(values));
    for (let block = 0; block < 64; block++) {
      const slice = values.subarray(block * 32, block * 32 + 32);
      const step = Math.max(...slice.map(Math.abs)) / 127;
      for (let index = 0; index < 32; index++) expect(Math.abs(back[block * 32 + index]! - slice[index]!)).toBeLessThanOrEqual(step * 0.51 + 1e-3 * step * 127);
    }
    expect([...dequantizeQ8_0(quantizeQ8_0(new Float32Array(32)))]).toEqual(new Array(32).fill(0));
    expect(() => quantizeQ8_0(new Float32Array(31))).toThrow(/multiple of 32/);
    expect(() => dequantizeQ8_0(new Uint8Array(33))).toThrow(/multiple of 34/);
  });
});
