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

describe("FallbackBreaker in auto mode", () => {
  it("skips the model after 3 invalid replies in a row, for the cooldown, then asks again", async () => {
    const { CouncilError } = await import("../core/index.js");
    const { FallbackBreaker } = await import("./structured-output.js");
    const breaker = new FallbackBreaker({ failures: 3, cooldown: 2 });
    let calls = 0;
    const llm = async () => ((calls += 1), { success: false as const, error: new CouncilError("STRUCTURED_OUTPUT_INVALID", "nope") });
    const run = () => runWithMode({ agent: "router", mode: "auto", llm, heuristic: () => "h", breaker });
    for (let i = 0; i < 3; i++) expect((await run()).step.fallback).toBe("nope");
    expect((await run()).step.fallback).toMatch(/skipped the model/);
    expect((await run()).step.fallback).toMatch(/skipped the model/);
    expect(calls).toBe(3);
    expect((await run()).step.fallback).toBe("nope");
    expect(calls).toBe(4);
  });

  it("a valid reply resets the streak, and llm mode ignores the breaker", async () => {
    const { CouncilError } = await import("../core/index.js");
    const { FallbackBreaker } = await import("./structured-output.js");
    const breaker = new FallbackBreaker({ failures: 2, cooldown: 5 });
    const bad = async () => ({ success: false as const, error: new CouncilError("STRUCTURED_OUTPUT_INVALID", "nope") });
    await runWithMode({ agent: "a", mode: "auto", llm: bad, heuristic: () => 1, breaker });
    await runWithMode({ agent: "a", mode: "auto", llm: async () => ok(2), heuristic: () => 1, breaker });
    expect((await runWithMode({ agent: "a", mode: "auto", llm: bad, heuristic: () => 1, breaker })).step.fallback).toBe("nope");
    await expect(runWithMode({ agent: "a", mode: "llm", llm: bad, heuristic: () => 1, breaker })).rejects.toMatchObject({ code: "STRUCTURED_OUTPUT_INVALID" });
  });
});
