import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { nightQuality } from "./night-quality.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("nightQuality", () => {
  it("judges candidates and accepted winners against the items' accept regexes", () => {
    const dir = mkdtempSync(join(tmpdir(), "night-quality-"));
    dirs.push(dir);
    const items = [
      { id: "a", question: "How do I see which process uses port 8080?", accept: ["lsof[^\\n]* -i"] },
      { id: "b", question: "How do I extract a tar.gz archive?", accept: ["tar[^\\n]* -?x"] },
      { id: "c", question: "How do I find large files?", accept: ["find[^\\n]* -size"] },
    ];
    writeFileSync(
      join(dir, "candidates.json"),
      JSON.stringify([
        { itemId: "q1", question: "how do I see which process uses port 8080?", kind: "failure", candidates: [{ id: "q1-kb", text: "`ssh -L 8080:localhost:80 host`", source: "knowledge-base" }, { id: "q1-kb2", text: "`lsof -i :8080`", source: "knowledge-base" }] },
        { itemId: "q2", question: "How do I extract a tar.gz archive?", kind: "failure", candidates: [{ id: "q2-kb", text: "`tar xzf a.tar.gz`", source: "knowledge-base" }] },
        { itemId: "q3", question: "How do I find large files?", kind: "failure", candidates: [{ id: "q3-kb", text: '`find ~ -name "*.pdf"`', source: "knowledge-base" }] },
        { itemId: "r1", question: "How do I find large files?", kind: "rated", candidates: [] },
      ]),
    );
    writeFileSync(
      join(dir, "ballots.json"),
      JSON.stringify([
        { itemId: "q1", accepted: true, winnerId: "q1-kb" },
        { itemId: "q2", accepted: true, winnerId: "q2-kb" },
        { itemId: "q3", accepted: false, winnerId: "q3-kb" },
      ]),
    );
    expect(nightQuality({ runDir: dir, items })).toEqual({ failures: 3, right_candidate_share: 0.667, vote_precision: 0.5, vote_recall: 0.5, accepted: 2 });
  });

  it("is null for a run that harvested nothing", () => {
    const dir = mkdtempSync(join(tmpdir(), "night-quality-"));
    dirs.push(dir);
    expect(nightQuality({ runDir: dir, items: [] })).toBeNull();
  });
});
