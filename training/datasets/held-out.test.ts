import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../core/index.js";
import { loadTldrPairs } from "../testing/tldr-pairs.js";
import { seedlingQualityItems, TLDR_ROOT } from "../testing/seedling-items.js";
import { findHeldOutLeaks, isHeldOutPage, loadHeldOutPages } from "./held-out.js";

/** Every file under a folder (text fixtures are small). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe("held-out tldr pages never reach training (HELD-OUT.txt)", () => {
  const heldOut = loadHeldOutPages({ tldrRoot: TLDR_ROOT });

  it("reads the list and the held-out pages' examples", () => {
    expect(heldOut.paths.size).toBeGreaterThan(100);
    expect(isHeldOutPage(heldOut, "tar")).toBe(true);
    expect(heldOut.lines.size).toBeGreaterThan(1000);
  });

  it("finds a verbatim held-out description or command (and a rendered long command) in a text, and ignores other pages' mentions", () => {
    const tarExample = [...heldOut.lines].find((line) => line.startsWith("`tar") && line.includes("{{"))!;
    expect(findHeldOutLeaks({ heldOut, texts: [{ source: "fixture", text: `some text\n${tarExample}\n` }] })).not.toEqual([]);
    expect(findHeldOutLeaks({ heldOut, texts: [{ source: "other page", text: "`find . -name '*.log' | grep error`" }] })).toEqual([]);
    // Another command that ends in a held-out one's name (`mcat` vs `cat`) is not the held-out command.
    const catLine = [...heldOut.lines].find((line) => line.startsWith("`cat {{"))!.slice(1, -1);
    expect(findHeldOutLeaks({ heldOut, texts: [{ source: "mcat page", text: `\`m${catLine}\`` }] })).toEqual([]);
    expect(findHeldOutLeaks({ heldOut, texts: [{ source: "copy", text: `run \`${catLine}\`` }] })).not.toEqual([]);
    expect(findHeldOutLeaks({ heldOut, texts: [{ source: "dalfox page", text: `\`dalfox ${catLine}\`` }] })).toEqual([]);
    // Another page's pipeline that uses the held-out command is a mention, not a copy (issue #13 allows it).
    expect(findHeldOutLeaks({ heldOut, texts: [{ source: "aspell page", text: `\`${catLine} | aspell list\`` }] })).toEqual([]);
  });

  it("the seedling's pre-training corpus (kb/) and every training fixture contain no held-out example", () => {
    const roots = ["kb", "memory/fixtures", "training/testing", "test/fixtures", "models/seedling/corpus"];
    const texts = roots.flatMap((root) => filesUnder(join(PROJECT_ROOT, root))).map((path) => ({ source: relative(PROJECT_ROOT, path), text: readFileSync(path, "utf8") }));
    expect(texts.length).toBeGreaterThan(20);
    expect(findHeldOutLeaks({ heldOut, texts })).toEqual([]);
  });

  it("the tldr pairs and the bench items the trainer tests train on come from allowed pages only", async () => {
    const pairs = await loadTldrPairs({ dir: join(TLDR_ROOT, "pages", "common"), count: 50, maxAnswerChars: 24 });
    const { trained } = seedlingQualityItems({ examples: 20, maxAnswerChars: 24 });
    expect(trained.length).toBe(20);
    expect(trained.filter((item) => isHeldOutPage(heldOut, item.page))).toEqual([]);
    const texts = [...pairs.map((pair) => ({ source: "tldr pair", text: `${pair.question}\n${pair.answer}` })), ...trained.map((item) => ({ source: `bench item ${item.id}`, text: `${item.question}\n${item.answer}` }))];
    expect(findHeldOutLeaks({ heldOut, texts })).toEqual([]);
  });
});
