import { HumanMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ok } from "../core/index.js";
import { FakeChatModel } from "../test/fakes/index.js";
import { invokeStructured, runWithMode } from "./structured-output.js";

const schema = z.object({ route: z.enum(["network", "files"]) });
const call = (model: FakeChatModel) => invokeStructured({ model, agent: "router", schema, messages: [new HumanMessage("q")] });

describe("invokeStructured", () => {
  it("parses a JSON object wrapped in prose or a code fence", async () => {
    const model = new FakeChatModel({ turns: [{ text: '```json\n{"route": "files"}\n```' }] });
    expect(await call(model)).toMatchObject({ success: true, value: { route: "files" } });
    expect(model.calls[0]).toMatchObject({ agent: "router", adapter: null });
  });

  it("stops reading after the first token when the reply is not JSON", async () => {
    const model = new FakeChatModel({ turns: [{ text: "Sure! The route is network, I think." }] });
    const result = await call(model);
    expect(result.success).toBe(false);
    expect(result.raw).toBe("Sure!");
    if (!result.success) expect(result.error.code).toBe("STRUCTURED_OUTPUT_INVALID");
  });

  it("rejects JSON that does not match the schema, naming the field", async () => {
    const result = await call(new FakeChatModel({ turns: [{ text: '{"route": "printers"}' }] }));
    expect(result.success).toBe(false);
    if (!result.success) expect(result.error.message).toMatch(/route/);
  });

  it("rejects broken JSON without throwing", async () => {
    const result = await call(new FakeChatModel({ turns: [{ text: '{"route": "files"' }] }));
    expect(result.success).toBe(false);
  });
});

describe("runWithMode", () => {
  const bad = async () => ({ success: false as const, error: new (await import("../core/index.js")).CouncilError("STRUCTURED_OUTPUT_INVALID", "nope") });
  it("auto falls back to the heuristic and says why", async () => {
    const outcome = await runWithMode({ agent: "critic", mode: "auto", llm: bad, heuristic: () => 0.4 });
    expect(outcome).toMatchObject({ value: 0.4, step: { agent: "critic", method: "heuristic", fallback: "nope" } });
  });
  it("llm mode surfaces STRUCTURED_OUTPUT_INVALID", async () => {
    await expect(runWithMode({ agent: "critic", mode: "llm", llm: bad, heuristic: () => 0.4 })).rejects.toMatchObject({ code: "STRUCTURED_OUTPUT_INVALID" });
  });
  it("heuristic mode never calls the model", async () => {
    let called = false;
    const outcome = await runWithMode({ agent: "router", mode: "heuristic", llm: async () => ((called = true), ok(1)), heuristic: () => 2 });
    expect(called).toBe(false);
    expect(outcome.step).toEqual({ agent: "router", method: "heuristic", ms: expect.any(Number) });
  });
  it("llm mode returns the model's value", async () => {
    const outcome = await runWithMode({ agent: "router", mode: "llm", llm: async () => ok(1), heuristic: () => 2 });
    expect(outcome).toMatchObject({ value: 1, step: { method: "llm" } });
    expect(outcome.step.fallback).toBeUndefined();
  });
});
