import { describe, expect, it } from "vitest";
import { FakeChatModel } from "../test/fakes/index.js";
import { Router } from "./router.js";
import { fixtureEmbeddings } from "./test-fixtures.js";
import { DEFAULT_TOPICS, GENERAL_ROUTE } from "./topics.js";

const create = (model: FakeChatModel, mode: "llm" | "heuristic" | "auto" = "auto") =>
  Router.create({ model, embeddings: fixtureEmbeddings(), topics: DEFAULT_TOPICS, mode });

describe("Router", () => {
  it("uses the model's route when it is valid JSON naming a known topic", async () => {
    const model = new FakeChatModel({ turns: [{ agent: "router", text: '{"route": "email"}' }] });
    const outcome = await (await create(model)).route({ question: "my printer jams" });
    expect(outcome.value.route).toBe("email");
    expect(outcome.step.method).toBe("llm");
    expect(model.calls[0]!.messages[0]!.text).toContain("- network:");
  });

  it.each([
    ["How do I connect to the vpn, my wifi works?", "network"],
    ["I forgot my password and my account is locked", "accounts"],
    ["how do I extract a tar archive into a directory", "files"],
    ["the printer says paper jam", "hardware"],
    ["install the latest version of the package with apt", "software"],
  ])("auto falls back to the nearest topic for %j → %s", async (question, route) => {
    const model = new FakeChatModel({ turns: [{ agent: "router", text: "The topic is network." }] });
    const outcome = await (await create(model)).route({ question });
    expect(outcome.value.route).toBe(route);
    expect(outcome.step).toMatchObject({ method: "heuristic", fallback: expect.stringMatching(/not a JSON object/) });
  });

  it("falls back when the model names a topic that does not exist", async () => {
    const model = new FakeChatModel({ turns: [{ agent: "router", text: '{"route": "astrology"}' }] });
    const outcome = await (await create(model)).route({ question: "reset my password" });
    expect(outcome.value.route).toBe("accounts");
    expect(outcome.step.fallback).toMatch(/route/);
  });

  it("routes unrelated questions to general", async () => {
    const outcome = await (await create(new FakeChatModel(), "heuristic")).route({ question: "qwzx plorf" });
    expect(outcome.value.route).toBe(GENERAL_ROUTE);
  });

  it("in llm mode an invalid reply is an error, not a guess", async () => {
    const model = new FakeChatModel({ turns: [{ agent: "router", text: "network" }] });
    await expect((await create(model, "llm")).route({ question: "vpn" })).rejects.toMatchObject({ code: "STRUCTURED_OUTPUT_INVALID" });
  });

  it("lists its bounded routes", async () => {
    const router = await create(new FakeChatModel(), "heuristic");
    expect(router.routes()).toEqual([...DEFAULT_TOPICS.map((t) => t.name), GENERAL_ROUTE]);
  });
});
