import { describe, expect, it } from "vitest";
import { LexicalIndex, lexicalTerms, stemWord } from "./lexical-index.js";

describe("stemWord", () => {
  it("maps the forms of a word to one key", () => {
    expect(new Set(["own", "owns", "owned", "owner", "owners", "ownership"].map(stemWord))).toEqual(new Set(["own"]));
    expect(new Set(["delete", "deletes", "deleted", "deleting", "deletion"].map(stemWord))).toEqual(new Set(["delet"]));
    expect(new Set(["run", "runs", "running"].map(stemWord))).toEqual(new Set(["run"]));
    expect(new Set(["archive", "archives", "archived"].map(stemWord))).toEqual(new Set(["archiv"]));
    expect(stemWord("directories")).toBe(stemWord("directory"));
    expect(stemWord("matches")).toBe(stemWord("match"));
  });

  it("leaves short words, command names with digits and -ss/-us endings alone", () => {
    expect(["ls", "tar", "user", "scp", "md5sum", "ipv4", "process", "status"].map(stemWord)).toEqual(["ls", "tar", "user", "scp", "md5sum", "ipv4", "process", "status"]);
    expect(stemWord("install")).toBe("install");
    expect(stemWord("installed")).toBe("install");
  });
});

describe("lexicalTerms", () => {
  it("drops question words and keeps command words", () => {
    expect(lexicalTerms("How can I find out which user owns a file?")).toEqual(["find", "out", "user", "own", "fil"]);
    expect(lexicalTerms("Show me all files")).toEqual(["show", "all", "fil"]);
    expect(lexicalTerms("g++ and C# — déjà vu")).toEqual(["g++", "c#", "deja", "vu"]);
  });
});

describe("LexicalIndex", () => {
  const docs = [
    { title: "Permissions › Changing the owner with chown", text: "`sudo chown alex report.txt` gives the file to the user alex." },
    { title: "Archives › tar", text: "`tar xf file.tar` extracts a file from an archive; every file is listed with -v." },
    { title: "Users › Who am I", text: "`whoami` prints your user name; `id` your user and groups." },
  ];

  it("ranks by shared stemmed words weighted by rarity, best scaled to 1", () => {
    const index = new LexicalIndex(docs);
    const scores = index.scores("which user owns a file?");
    expect(scores[0]).toBe(1);
    expect(scores[0]).toBeGreaterThan(scores[2]!);
    expect(scores[2]).toBeGreaterThan(0);
    expect(Math.max(...index.scores("extracting archives"))).toBe(index.scores("extracting archives")[1]);
  });

  it("counts title words more than text words", () => {
    const plain = new LexicalIndex(docs, { titleWeight: 0 });
    const titled = new LexicalIndex(docs);
    expect(plain.scores("who am i")[2]).toBe(0);
    expect(titled.scores("chown")[0]).toBe(1);
    expect(titled.scores("groups who")[2]).toBe(1);
  });

  it("scores 0 everywhere when no word matches, or when there are no documents", () => {
    expect([...new LexicalIndex(docs).scores("vpn gateway offline")]).toEqual([0, 0, 0]);
    expect(new LexicalIndex([]).scores("file").length).toBe(0);
  });
});
