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
    const config = loadConfig({ env: { COUNCIL_PORT: "9000", COUNCIL_CANARY_STEPS: "5,25,100", COUNCIL_CHAT_TOKENS: "a-chat-token-0001,b-chat-token-0002", COUNCIL_IMPROVE_ENABLED: "false" } });
    expect(config.server.port).toBe(9000);
    expect(config.improve.canarySteps).toEqual([5, 25, 100]);
    expect(config.server.chatTokens).toEqual(["a-chat-token-0001", "b-chat-token-0002"]);
    expect(config.improve.enabled).toBe(false);
  });

  it("refuses bad values, naming the variable", () => {
    for (const [key, value] of [["COUNCIL_PORT", "eighty"], ["COUNCIL_TEMPERATURE", "hot"], ["COUNCIL_CANARY_STEPS", "10,0"], ["COUNCIL_PROMETHEUS_URL", "not a url"]] as const) {
      try {
        loadConfig({ env: { [key]: value } });
        expect.unreachable(`${key}=${value} was accepted`);
      } catch (error) {
        expect(isCouncilError(error, "CONFIG_INVALID")).toBe(true);
        expect((error as Error).message).toContain(key);
      }
    }
  });

  it("refuses chat tokens under 16 characters, naming the key and not the token", () => {
    const load = (tokens: string) => () => loadConfig({ env: { COUNCIL_CHAT_TOKENS: tokens } });
    expect(load("a-long-enough-token-1,short-secret")).toThrow(/COUNCIL_CHAT_TOKENS.*token 2 of 2 is shorter than 16/);
    let thrown: unknown;
    try {
      load("short-secret")();
    } catch (error) {
      thrown = error;
    }
    expect(isCouncilError(thrown, "CONFIG_INVALID")).toBe(true);
    expect((thrown as Error).message).not.toContain("short-secret");
    expect(loadConfig({ env: { COUNCIL_CHAT_TOKENS: "0123456789abcdef" } }).server.chatTokens).toEqual(["0123456789abcdef"]);
  });

  it("reads the origin allow-list and the anonymous-corrections switch, refusing non-origins", () => {
    const config = loadConfig({ env: { COUNCIL_ALLOWED_ORIGINS: "https://chat.example.com, http://localhost:3000", COUNCIL_TRAIN_ANONYMOUS_CORRECTIONS: "true" } });
    expect(config.server.allowedOrigins).toEqual(["https://chat.example.com", "http://localhost:3000"]);
    expect(config.improve.trainAnonymousCorrections).toBe(true);
    expect(loadConfig({ env: {} }).improve.trainAnonymousCorrections).toBe(false);
    expect(() => loadConfig({ env: { COUNCIL_ALLOWED_ORIGINS: "chat.example.com" } })).toThrow(/COUNCIL_ALLOWED_ORIGINS/);
  });

  it("reads the shared-adapter size cap (128 MiB by default), refusing a non-positive one", () => {
    expect(loadConfig({ env: {} }).memory.sharedAdapterMaxBytes).toBe(128 * 1024 * 1024);
    expect(loadConfig({ env: { COUNCIL_SHARED_ADAPTER_MAX_BYTES: "1048576" } }).memory.sharedAdapterMaxBytes).toBe(1_048_576);
    expect(() => loadConfig({ env: { COUNCIL_SHARED_ADAPTER_MAX_BYTES: "0" } })).toThrow(/COUNCIL_SHARED_ADAPTER_MAX_BYTES/);
  });

  it("rejects unknown keys in the config file", () => {
    expect(() => loadConfig({ env: {}, overrides: { nope: 1 } as never })).toThrow(/nope|Unrecognized/);
  });
});
