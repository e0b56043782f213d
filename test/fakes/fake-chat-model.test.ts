import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { FakeChatModel, splitTokens } from "./index.js";

describe("FakeChatModel", () => {
  it("answers by agent and predicate, and records messages and adapter", async () => {
    const model = new FakeChatModel({
      turns: [
        { agent: "critic", text: '{"score":0.9}' },
        { agent: "answerer", when: (call) => call.lastMessage.includes("VPN"), text: "Restart the VPN client." },
      ],
    });
    const reply = await model.invoke([new SystemMessage("sys"), new HumanMessage("my VPN is down")], {
      adapter: "stable",
      metadata: { agent: "answerer" },
    });
    expect(reply.text).toBe("Restart the VPN client.");
    expect(model.calls).toHaveLength(1);
    expect(model.calls[0]).toMatchObject({ agent: "answerer", adapter: "stable", streamed: false, text: "Restart the VPN client." });
    expect(model.calls[0]!.messages.map((m) => m.text)).toEqual(["sys", "my VPN is down"]);
    expect(model.calls[0]!.options).not.toHaveProperty("__fakeAgent");
    expect(model.pending()).toHaveLength(1);
  });

  it("streams the scripted text token by token with usage on the last chunk", async () => {
    const model = new FakeChatModel({ turns: [{ text: "Use ls -la to list files." }] });
    const chunks: string[] = [];
    let outputTokens: number | undefined;
    for await (const chunk of await model.stream("list files", { metadata: { agent: "answerer" }, adapter: null })) {
      chunks.push(chunk.text);
      outputTokens = chunk.usage_metadata?.output_tokens ?? outputTokens;
    }
    expect(chunks).toEqual(["Use", " ls", " -la", " to", " list", " files."]);
    expect(outputTokens).toBe(6);
    expect(model.calls[0]).toMatchObject({ streamed: true, adapter: null });
  });

  it("throws on an unscripted call and on a used-up turn", async () => {
    const model = new FakeChatModel({ turns: [{ agent: "router", text: "{}" }] });
    await expect(model.invoke("hi", { metadata: { agent: "critic" } })).rejects.toThrow(/unscripted call from agent critic/);
    await model.invoke("hi", { metadata: { agent: "router" } });
    await expect(model.invoke("hi", { metadata: { agent: "router" } })).rejects.toThrow(/unscripted/);
  });

  it("in sequence order refuses a call that does not match the next turn", async () => {
    const model = new FakeChatModel({ order: "sequence", turns: [{ agent: "router", text: "a" }, { agent: "answerer", text: "b" }] });
    await expect(model.invoke("x", { metadata: { agent: "answerer" } })).rejects.toThrow(/next scripted turn is for agent router/);
    expect((await model.invoke("x", { metadata: { agent: "router" } })).text).toBe("a");
    expect((await model.invoke("x", { metadata: { agent: "answerer" } })).text).toBe("b");
  });

  it("replays turns with times and throws scripted errors", async () => {
    const model = new FakeChatModel({ turns: [{ agent: "critic", text: "ok", times: Infinity }, { agent: "answerer", error: new Error("boom") }] });
    for (let i = 0; i < 3; i++) expect((await model.invoke("x", { metadata: { agent: "critic" } })).text).toBe("ok");
    await expect(model.invoke("x", { metadata: { agent: "answerer" } })).rejects.toThrow("boom");
    expect(model.pending()).toHaveLength(0);
  });

  it("honours an aborted signal", async () => {
    const model = new FakeChatModel({ turns: [{ text: "never" }] });
    const controller = new AbortController();
    controller.abort();
    await expect(model.invoke("x", { signal: controller.signal })).rejects.toThrow();
  });

  it("splitTokens round-trips text", () => {
    for (const text of ["", "a", "  lead", "trail  ", "a b\n c"]) expect(splitTokens(text).join("")).toBe(text);
  });
});
