import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatTemplateRenderer } from "../models/chat-template.js";
import { renderExample } from "../models/prompt-template.js";
import { renderConversations, resolveDataset } from "./training-dataset.js";

const jsonl = (rows: readonly unknown[]) => rows.map((row) => (typeof row === "string" ? row : JSON.stringify(row))).join("\n") + "\n";

describe("training data formats (TRL prompt/completion and conversational)", () => {
  let dir: string;
  let n = 0;
  const write = async (rows: readonly unknown[]) => {
    const path = join(dir, `data-${n++}.jsonl`);
    await writeFile(path, jsonl(rows));
    return path;
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "council-dataset-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("parses messages lines, conversational prompt/completion lines and text lines in one file", async () => {
    const path = await write([
      { messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "List files?" }, { role: "assistant", content: "ls" }] },
      { prompt: [{ role: "user", content: "Disk usage?" }], completion: [{ role: "assistant", content: "df -h" }] },
      { prompt: "### User:\nhi\n\n### Assistant:\n", completion: "hello\n###" },
    ]);
    const dataset = await resolveDataset(path);
    expect(dataset.examples).toBe(3);
    expect(dataset.conversations).toBe(2);
    expect(dataset.lines).toEqual([
      { kind: "conversation", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "List files?" }], answer: "ls" },
      { kind: "conversation", messages: [{ role: "user", content: "Disk usage?" }], answer: "df -h" },
      { kind: "text", prompt: "### User:\nhi\n\n### Assistant:\n", completion: "hello\n###" },
    ]);
  });

  it("renders conversations with the seedling template (no model template), loss only on the final assistant answer, text lines untouched", async () => {
    const path = await write([
      { messages: [{ role: "user", content: "a?" }, { role: "assistant", content: "A." }, { role: "user", content: "b?" }, { role: "assistant", content: "B." }] },
      { prompt: "P", completion: "C" },
    ]);
    const dataset = await resolveDataset(path);
    const out = join(dir, "rendered.jsonl");
    const rendered = await renderConversations({ dataset, render: renderExample, out });
    expect(rendered.file).toBe(out);
    const rows = (await readFile(out, "utf8")).trimEnd().split("\n").map((line) => JSON.parse(line) as unknown);
    expect(rows).toEqual([
      renderExample([{ role: "user", content: "a?" }, { role: "assistant", content: "A." }, { role: "user", content: "b?" }], "B."),
      { prompt: "P", completion: "C" },
    ]);
    expect(rows[0]).toEqual({ prompt: "### User:\na?\n\n### Assistant:\nA.\n\n### User:\nb?\n\n### Assistant:\n", completion: "B.\n###" });
  });

  it.each([
    ["a messages list not ending with the assistant", { messages: [{ role: "user", content: "q" }] }, "the last message must be from the assistant"],
    ["an unknown role", { messages: [{ role: "tool", content: "x" }, { role: "assistant", content: "a" }] }, "messages[0].role"],
    ["a message without content", { messages: [{ role: "user" }, { role: "assistant", content: "a" }] }, "messages[0].content"],
    ["an empty final answer", { messages: [{ role: "user", content: "q" }, { role: "assistant", content: " " }] }, "final assistant message is empty"],
    ["only an assistant message", { messages: [{ role: "assistant", content: "a" }] }, "at least one message before"],
    ["a completion list without the assistant", { prompt: [{ role: "user", content: "q" }], completion: [{ role: "user", content: "x" }] }, "the last message must be from the assistant"],
    ["neither format", { question: "q", answer: "a" }, "expected"],
    ["a JSON array", [1, 2], "not a JSON object"],
    ["an empty text completion", { prompt: "p", completion: "  " }, "completion is empty"],
  ])("rejects %s with DATASET_INVALID naming file:line and both formats", async (_name, bad, reason) => {
    const path = await write([{ prompt: "p", completion: "c" }, bad]);
    const error = await resolveDataset(path).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "DATASET_INVALID", details: { path, line: 2 } });
    const message = (error as Error).message;
    expect(message.startsWith(`${path}:2: `)).toBe(true);
    expect(message).toContain(reason);
    if (reason.startsWith("the last") || reason.includes("[0]") || reason === "expected" || reason === "not a JSON object") {
      expect(message).toContain('{"prompt": string, "completion": string}');
      expect(message).toContain('{"messages": [{"role": "system"|"user"|"assistant", "content": string}, ...]}');
    }
  });

  it("a conversation the model's template cannot render fails with DATASET_INVALID naming its line", async () => {
    const path = await write([{ prompt: "p", completion: "c" }, { messages: [{ role: "user", content: "q" }, { role: "assistant", content: "a" }] }]);
    const dataset = await resolveDataset(path);
    const render = chatTemplateRenderer({ template: "{{ raise_exception('roles must alternate') }}" });
    const error = await renderConversations({ dataset, render, out: join(dir, "never.jsonl") }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "DATASET_INVALID", details: { path, line: 2 } });
    expect((error as Error).message).toContain("roles must alternate");
  });
});
