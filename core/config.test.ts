import { describe, expect, it } from "vitest";
import { isCouncilError } from "./errors.js";
import { loadConfig } from "./config.js";

describe("loadConfig", () => {
  it("applies defaults and freezes the result", () => {
    const config = loadConfig({ env: {} });
    expect(config.server.port).toBe(8080);
    expect(config.improve.canarySteps).toEqual([10, 50, 100]);
    expect(Object.isFrozen(config.server)).toBe(true);
  });

  it("reads COUNCIL_* variables with types", () => {
    const config = loadConfig({ env: { COUNCIL_PORT: "9000", COUNCIL_CANARY_STEPS: "5,25,100", COUNCIL_CHAT_TOKENS: "a,b", COUNCIL_IMPROVE_ENABLED: "false" } });
    expect(config.server.port).toBe(9000);
    expect(config.improve.canarySteps).toEqual([5, 25, 100]);
    expect(config.server.chatTokens).toEqual(["a", "b"]);
    expect(config.improve.enabled).toBe(false);
  });

  it("refuses bad values, naming the variable", () => {
    for (const [key, value] of [["COUNCIL_PORT", "eighty"], ["COUNCIL_BACKEND", "gpt"], ["COUNCIL_CANARY_STEPS", "10,0"], ["COUNCIL_PROMETHEUS_URL", "not a url"]] as const) {
      try {
        loadConfig({ env: { [key]: value } });
        expect.unreachable(`${key}=${value} was accepted`);
      } catch (error) {
        expect(isCouncilError(error, "CONFIG_INVALID")).toBe(true);
        expect((error as Error).message).toContain(key);
      }
    }
  });

  it("rejects unknown keys in the config file", () => {
    expect(() => loadConfig({ env: {}, overrides: { nope: 1 } as never })).toThrow(/nope|Unrecognized/);
  });
});
