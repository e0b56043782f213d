import { describe, expect, it } from "vitest";
import { loadConfig } from "../core/index.js";
import { cosineRanker, hybridRanker, passageRankers } from "./passage-rankers.js";

const passages = [
  { title: "Permissions › Changing the owner", text: "`sudo chown alex report.txt` gives the file to the user alex." },
  { title: "Archives › tar", text: "`tar xf file.tar` extracts an archive." },
];

describe("passage rankers", () => {
  it("cosine adds nothing; hybrid adds weight × scaled BM25", () => {
    expect(cosineRanker().prepare(passages)("who owns this file")).toBeUndefined();
    const scores = hybridRanker({ weight: 0.4 }).prepare(passages)("who owns this file");
    expect(scores?.[0]).toBeCloseTo(0.4);
    expect(scores?.[1]).toBeGreaterThanOrEqual(0);
    expect(scores?.[1]).toBeLessThan(0.4);
    expect(hybridRanker({ weight: 0 }).prepare(passages)("owner")).toBeUndefined();
  });

  it("refuses a negative or non-finite weight", () => {
    expect(() => hybridRanker({ weight: -0.1 })).toThrow(expect.objectContaining({ code: "CONFIG_INVALID" }));
    expect(() => hybridRanker({ weight: Number.NaN })).toThrow(expect.objectContaining({ code: "CONFIG_INVALID" }));
  });

  it("config picks the ranker (kb.ranker) and its weight (kb.lexicalWeight); an unknown name lists the registered ones", () => {
    expect(loadConfig({ env: {} }).kb).toMatchObject({ ranker: "hybrid", lexicalWeight: 0.3 });
    const config = loadConfig({ env: { COUNCIL_KB_RANKER: "hybrid", COUNCIL_KB_LEXICAL_WEIGHT: "0.5" } });
    expect(config.kb).toMatchObject({ ranker: "hybrid", lexicalWeight: 0.5 });
    const ranker = passageRankers.get(config.kb.ranker).create(config, {});
    expect(ranker.name).toBe("hybrid");
    expect(ranker.prepare(passages)("owner")?.[0]).toBeCloseTo(0.5);
    expect(passageRankers.get(loadConfig({ env: { COUNCIL_KB_RANKER: "cosine" } }).kb.ranker).create(config, {}).name).toBe("cosine");
    expect(() => passageRankers.get("bm42")).toThrow(expect.objectContaining({ code: "BACKEND_UNKNOWN" }));
    expect(() => loadConfig({ env: { COUNCIL_KB_LEXICAL_WEIGHT: "-1" } })).toThrow(expect.objectContaining({ code: "CONFIG_INVALID" }));
  });
});
