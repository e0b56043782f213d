import { mkdtemp, readFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isCouncilError } from "../../core/index.js";
import { buildDataset, type AcceptedExample } from "./build-dataset.js";

const DAY = 86_400_000;
const example = (id: string, question: string, userId = `user-${id}`, createdAt = 0): AcceptedExample => ({
  id,
  traceIds: [`trace-${id}`],
  userId,
  createdAt,
  question,
  messages: [{ role: "system", content: "You are an IT helpdesk." }, { role: "user", content: question }],
  chosen: `Answer for ${question}`,
  rejected: "I don't know.",
});

const options = { maxPerUserPerDay: 50, maxUserShare: 1 };

describe("buildDataset", () => {
  it("writes SFT, DPO and KTO files with a manifest of hashes and counts", async () => {
    const outDir = join(await mkdtemp(join(tmpdir(), "ds-")), "out");
    const manifest = await buildDataset({
      ...options,
      accepted: [example("a", "How do I extract a tar archive?"), example("b", "How do I list open ports on linux?")],
      rated: [{ id: "r", traceIds: ["trace-r"], userId: "u", createdAt: 0, question: "reset my password", messages: [{ role: "user", content: "reset my password" }], completion: "Use the self-service portal.", label: true }],
      evalSets: [{ name: "holdout", items: [{ id: "e1", question: "How do I mount a USB drive?" }] }],
      outDir,
      now: () => 0,
    });
    expect(manifest.counts).toEqual({ accepted: 2, rated: 1, sft: 2, dpo: 2, kto: 1 });
    expect(manifest.sourceTraceIds).toEqual(["trace-a", "trace-b", "trace-r"]);
    expect((await readdir(outDir)).sort()).toEqual(["dpo.jsonl", "kto.jsonl", "manifest.json", "sft.messages.jsonl", "sft.prompt-completion.jsonl"]);
    const promptCompletion = (await readFile(join(outDir, "sft.prompt-completion.jsonl"), "utf8")).trim().split("\n").map((line) => JSON.parse(line));
    expect(promptCompletion[0].prompt).toContain("### User:\nHow do I extract a tar archive?");
    expect(promptCompletion[0].prompt.endsWith("### Assistant:\n")).toBe(true);
    expect(promptCompletion[0].completion).toBe("Answer for How do I extract a tar archive?\n###");
    const messages = JSON.parse((await readFile(join(outDir, "sft.messages.jsonl"), "utf8")).split("\n")[0]!);
    expect(messages.messages.at(-1)).toEqual({ role: "assistant", content: "Answer for How do I extract a tar archive?" });
  });

  it("replays ⌈ratio × fixes⌉ passing answers in the SFT files beside the fixes, and counts them", async () => {
    const outDir = join(await mkdtemp(join(tmpdir(), "ds-")), "out");
    const passing = (id: string, question: string): AcceptedExample => ({ ...example(id, question), chosen: `Passing answer for ${question}`, rejected: undefined });
    const manifest = await buildDataset({
      ...options,
      accepted: [example("a", "How do I extract a tar archive?")],
      replay: [passing("p1", "How do I list files one per line?"), passing("p2", "How do I copy a folder recursively?"), passing("p3", "How do I list the contents of a tar file?")],
      replayRatio: 2,
      evalSets: [],
      outDir,
      now: () => 0,
    });
    expect(manifest.counts).toEqual({ accepted: 1, rated: 0, sft: 3, dpo: 1, kto: 0, replay: 2 });
    // nearest to the fix first: the other tar question, then the one that shares "a"; "list files one per line" shares only "how do I"
    expect(manifest.sourceTraceIds).toEqual(["trace-a", "trace-p3", "trace-p2"]);
    const rows = (await readFile(join(outDir, "sft.prompt-completion.jsonl"), "utf8")).trim().split("\n").map((line) => JSON.parse(line));
    expect(rows.map((row) => [row.id, row.kind ?? "fix", row.completion])).toEqual([
      ["a", "fix", "Answer for How do I extract a tar archive?\n###"],
      ["p3", "replay", "Passing answer for How do I list the contents of a tar file?\n###"],
      ["p2", "replay", "Passing answer for How do I copy a folder recursively?\n###"],
    ]);
    expect((await readFile(join(outDir, "sft.messages.jsonl"), "utf8")).trim().split("\n")).toHaveLength(3);
  });

  it("refuses a replayed answer that overlaps an eval set", async () => {
    const outDir = join(await mkdtemp(join(tmpdir(), "ds-")), "out");
    const evalSets = [{ name: "holdout", items: [{ id: "e1", question: "How do I mount a USB drive on linux?" }] }];
    const error = await buildDataset({ ...options, accepted: [example("a", "How do I extract a tar archive?")], replay: [example("p", "How do I mount a USB drive on linux?")], replayRatio: 1, evalSets, outDir }).catch((e: unknown) => e);
    expect(isCouncilError(error) && error.code).toBe("DATASET_CONTAMINATED");
  });

  it("writes the same files for the same accepted set, whatever order it arrived in (the trainer packs in file order)", async () => {
    const accepted = ["How do I extract a tar archive?", "How do I list open ports?", "How do I see disk usage?", "How do I kill a process?"].map((q, i) => example(String(i), q));
    const build = async (items: AcceptedExample[]) => {
      const outDir = join(await mkdtemp(join(tmpdir(), "ds-")), "out");
      const manifest = await buildDataset({ ...options, accepted: items, evalSets: [], outDir, now: () => 0 });
      return { sha256: manifest.sha256, text: await readFile(join(outDir, "sft.prompt-completion.jsonl"), "utf8") };
    };
    const forward = await build(accepted);
    const reversed = await build([...accepted].reverse());
    expect(reversed).toEqual(forward);
    expect(forward.text.trim().split("\n")).toHaveLength(4);
  });

  it("fails the whole build when an example contains an eval item, naming the ids, and writes nothing", async () => {
    const root = await mkdtemp(join(tmpdir(), "ds-"));
    const evalSets = [{ name: "holdout", items: [{ id: "e7", question: "How do I extract a tar archive?" }, { id: "e8", question: "show me the disk usage of every folder in the current directory sorted by size please" }] }];
    const accepted = [
      example("clean", "How do I change my VPN password?"),
      example("exact", "how do I EXTRACT a tar archive"),
      example("ngram", "Could you show me the disk usage of every folder in the current directory sorted by size please thanks"),
    ];
    const error = await buildDataset({ ...options, accepted, evalSets, outDir: join(root, "out") }).catch((e: unknown) => e);
    expect(isCouncilError(error, "DATASET_CONTAMINATED")).toBe(true);
    expect((error as Error).message).toContain("exact~holdout/e7 (exact)");
    expect((error as Error).message).toContain("ngram~holdout/e8 (ngram)");
    expect((error as Error).message).not.toContain("clean~");
    expect(await readdir(root)).toEqual([]);
  });

  it("holds the per-user caps: per day, then share of the batch", async () => {
    const accepted = [
      ...Array.from({ length: 6 }, (_, i) => example(`heavy-${i}`, `heavy question number ${i} about printers model ${i * 7}`, "heavy", 0)),
      ...Array.from({ length: 2 }, (_, i) => example(`heavy-late-${i}`, `late question ${i} regarding vpn client ${i * 3}`, "heavy", DAY)),
      ...Array.from({ length: 8 }, (_, i) => example(`light-${i}`, `distinct light question ${i} on topic ${i * 11}`, `light-${i}`, 0)),
    ];
    const manifest = await buildDataset({ accepted, evalSets: [], outDir: join(await mkdtemp(join(tmpdir(), "ds-")), "out"), maxPerUserPerDay: 4, maxUserShare: 0.25 });
    const byName = Object.fromEntries(manifest.filters.map((f) => [f.name, f]));
    expect(byName["per-user-per-day"]!.ids).toEqual(["heavy-4", "heavy-5"]);
    // After the daily cap, heavy has 6 of 14; a cap of 3 gives 3 / 11 ≤ 0.25? no (0.27) → 2 / 10 = 0.2.
    expect(manifest.counts.sft).toBe(10);
    expect(byName["per-user-share"]!.dropped).toBe(4);
  });

  it("drops near-duplicate questions and reports them", async () => {
    const manifest = await buildDataset({
      ...options,
      accepted: [example("one", "How do I reset my password on the portal?"), example("two", "how do i reset my password on the portal"), example("three", "How do I configure the office printer?")],
      evalSets: [],
      outDir: join(await mkdtemp(join(tmpdir(), "ds-")), "out"),
    });
    expect(manifest.filters.find((f) => f.name === "near-duplicate")).toEqual({ name: "near-duplicate", dropped: 1, ids: ["two"] });
  });

  it("rejects empty answers and an existing output folder", async () => {
    const outDir = await mkdtemp(join(tmpdir(), "ds-"));
    await expect(buildDataset({ ...options, accepted: [{ ...example("x", "q?"), chosen: " " }], evalSets: [], outDir: join(outDir, "new") })).rejects.toMatchObject({ code: "DATASET_INVALID" });
    await expect(buildDataset({ ...options, accepted: [example("x", "q?")], evalSets: [], outDir })).rejects.toMatchObject({ code: "DATASET_INVALID" });
  });
});
