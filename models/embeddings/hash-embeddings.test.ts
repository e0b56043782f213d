import { describe, expect, it } from "vitest";
import { isCouncilError } from "../../core/index.js";
import { HashEmbeddings, tokenize } from "./hash-embeddings.js";

const dot = (a: number[], b: number[]) => a.reduce((sum, value, i) => sum + value * b[i]!, 0);

describe("HashEmbeddings", () => {
  const embeddings = new HashEmbeddings();

  it("is deterministic across calls and instances", async () => {
    const text = "How do I reset my VPN password?";
    const first = await embeddings.embedQuery(text);
    const again = await new HashEmbeddings().embedQuery(text);
    expect(first).toEqual(again);
    const [doc] = await embeddings.embedDocuments([text]);
    expect(doc).toEqual(first);
  });

  it("returns L2-normalised vectors of the configured length", async () => {
    const vector = await new HashEmbeddings({ dimensions: 64 }).embedQuery("printer offline on floor 3");
    expect(vector).toHaveLength(64);
    expect(Math.sqrt(dot(vector, vector))).toBeCloseTo(1, 5);
    expect(vector.every(Number.isFinite)).toBe(true);
  });

  it("places similar texts closer than unrelated ones", async () => {
    const [vpn, vpnRephrased, printer] = await embeddings.embedDocuments([
      "How do I reset my VPN password?",
      "VPN password reset not working",
      "The printer on floor 3 is jammed with paper",
    ]);
    expect(dot(vpn!, vpnRephrased!)).toBeGreaterThan(0.4);
    expect(dot(vpn!, vpnRephrased!)).toBeGreaterThan(dot(vpn!, printer!) + 0.3);
  });

  it("matches command names and morphological variants through character trigrams", async () => {
    const [query, tarPage, lsPage] = await embeddings.embedDocuments([
      "extracting an archive",
      "tar: extract an archive into the current directory",
      "ls: list directory contents",
    ]);
    expect(dot(query!, tarPage!)).toBeGreaterThan(dot(query!, lsPage!));
  });

  it("gives the zero vector for text without words", async () => {
    const vector = await embeddings.embedQuery("  ?! ");
    expect(vector.every((value) => value === 0)).toBe(true);
  });

  it("rejects bad dimensions with CONFIG_INVALID", () => {
    for (const dimensions of [0, 8, 1.5, 100_000]) {
      let caught: unknown;
      try {
        new HashEmbeddings({ dimensions });
      } catch (error) {
        caught = error;
      }
      expect(isCouncilError(caught, "CONFIG_INVALID")).toBe(true);
    }
  });

  it("tokenizes case- and accent-insensitively", () => {
    expect(tokenize("Café-Login FAILED (code 0x80)")).toEqual(["cafe", "login", "failed", "code", "0x80"]);
  });
});
