import { z } from "zod";
import { describe, expect, it } from "vitest";
import { BackendRegistry, defineBackend, type Backend } from "./backend-registry.js";
import { isCouncilError } from "./errors.js";

type Greeter = Backend<{ suffix: string }, string, { loud: boolean }>;

const plain: Greeter = defineBackend({
  name: "plain",
  description: "says hello",
  configSchema: z.object({ model: z.object({ openaiModel: z.string() }) }),
  capabilities: { loud: false },
  open: ({ model }, { suffix }) => `hello ${model.openaiModel}${suffix}`,
});
const loud: Greeter = defineBackend({ name: "loud", description: "shouts", configSchema: z.object({}), capabilities: { loud: true }, open: (_settings, { suffix }) => `HELLO${suffix}` });

const caught = (work: () => unknown): unknown => {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
};

describe("BackendRegistry", () => {
  it("picks a registered backend by name and builds it from its config slice", () => {
    const registry = new BackendRegistry<Greeter>({ kind: "greeter", configKey: "model.backend" }).register(plain).register(loud);
    expect(registry.names()).toEqual(["plain", "loud"]);
    expect(registry.get("plain").create({ model: { openaiModel: "base", other: 1 }, dataDir: "/x" }, { suffix: "!" })).toBe("hello base!");
    expect(registry.get("loud").capabilities.loud).toBe(true);
  });

  it("refuses an unknown name with BACKEND_UNKNOWN naming the variable and every registered name", () => {
    const registry = new BackendRegistry<Greeter>({ kind: "greeter", configKey: "model.backend" }).register(plain).register(loud);
    const error = caught(() => registry.get("tensorflow"));
    expect(isCouncilError(error, "BACKEND_UNKNOWN")).toBe(true);
    expect((error as Error).message).toBe('Unknown greeter "tensorflow". Set COUNCIL_BACKEND (config key "model.backend") to one of: plain, loud.');
    expect((error as { details: unknown }).details).toMatchObject({ name: "tensorflow", registered: ["plain", "loud"] });
  });

  it("refuses a second backend under the same name with BACKEND_DUPLICATE", () => {
    const registry = new BackendRegistry<Greeter>({ kind: "greeter", configKey: "model.backend" }).register(plain);
    expect(isCouncilError(caught(() => registry.register({ ...loud, name: "plain" })), "BACKEND_DUPLICATE")).toBe(true);
    expect(registry.get("plain")).toBe(plain);
  });

  it("names a missing setting by its variable (CONFIG_INVALID) before opening anything", () => {
    const error = caught(() => plain.create({ model: {} }, { suffix: "" }));
    expect(isCouncilError(error, "CONFIG_INVALID")).toBe(true);
    expect((error as Error).message).toBe('The plain backend needs COUNCIL_OPENAI_MODEL (config key "model.openaiModel").');
    expect((error as { details: unknown }).details).toMatchObject({ key: "model.openaiModel", envKey: "COUNCIL_OPENAI_MODEL", backend: "plain" });
    const wrongType = caught(() => plain.create({ model: { openaiModel: 3 } }, { suffix: "" }));
    expect((wrongType as Error).message).toMatch(/^Invalid COUNCIL_OPENAI_MODEL \(config key "model.openaiModel"\) for the plain backend: /);
  });

  it("lists names, descriptions and typed capabilities (what council doctor prints)", () => {
    const registry = new BackendRegistry<Greeter>({ kind: "greeter", configKey: "model.backend" }).register(plain).register(loud);
    expect(registry.listing()).toEqual({
      kind: "greeter",
      configKey: "model.backend",
      entries: [
        { name: "plain", description: "says hello", capabilities: { loud: false } },
        { name: "loud", description: "shouts", capabilities: { loud: true } },
      ],
    });
  });
});
