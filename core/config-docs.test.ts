import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configDocRows, configLeafPaths, configTable, configurationDoc, INTERNAL_CONFIG_KEYS, withConfigTable } from "./config-docs.js";
import { ENV_KEYS, loadConfig, PROJECT_ROOT } from "./config.js";

const read = (path: string) => readFileSync(join(PROJECT_ROOT, path), "utf8");

describe("configuration docs are generated from the schema (npx council config docs)", () => {
  it("README's configuration table and docs/configuration.md match the schema", () => {
    const readme = read("README.md");
    expect(withConfigTable(readme), "README.md is out of date: run `npx council config docs`").toBe(readme);
    expect(read("docs/configuration.md"), "docs/configuration.md is out of date: run `npx council config docs`").toBe(configurationDoc());
  });

  it("every schema key has an environment variable and a description (except the internal ones)", () => {
    const mapped = new Set<string>(Object.values(ENV_KEYS));
    expect(configLeafPaths().filter((path) => !mapped.has(path) && !INTERNAL_CONFIG_KEYS.includes(path))).toEqual([]);
    expect(configDocRows().filter((row) => row.description === "").map((row) => row.envKey)).toEqual([]);
  });

  it("shows the schema's real defaults, including the ones the hand-written table had wrong", () => {
    const defaults = loadConfig({ env: {} }).training;
    const byKey = Object.fromEntries(configDocRows().map((row) => [row.envKey, row.defaultValue]));
    expect(byKey.COUNCIL_TRAIN_LR).toBe(`\`${defaults.learningRate}\``);
    expect(byKey.COUNCIL_LORA_TARGETS).toContain("output.weight");
    expect(byKey.COUNCIL_TRAIN_MIN_STEPS).toBe(`\`${defaults.minSteps}\``);
    expect(byKey.COUNCIL_TRAIN_MAX_EPOCHS).toBe(`\`${defaults.maxEpochs}\``);
    expect(byKey.COUNCIL_DATA_DIR).toBe("`<project>`");
    expect(configTable()).toContain(`| \`COUNCIL_TRAIN_MIN_STEPS\` | \`training.minSteps\` | \`${defaults.minSteps}\` |`);
  });

  it("detects drift: a README with a stale row is rewritten", () => {
    const readme = read("README.md");
    const lr = `| \`COUNCIL_TRAIN_LR\` | \`training.learningRate\` | \`${loadConfig({ env: {} }).training.learningRate}\` |`;
    const stale = readme.replace(lr, "| `COUNCIL_TRAIN_LR` | `training.learningRate` | `0.5` |");
    expect(stale).not.toBe(readme);
    expect(withConfigTable(stale)).toBe(readme);
  });

  it("the runbook names only variables that exist", () => {
    const named = [...read("docs/runbook.md").matchAll(/`(COUNCIL_[A-Z0-9_]+)`/g)].map((match) => match[1]!);
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((key) => !(key in ENV_KEYS))).toEqual([]);
    expect(read("docs/runbook.md")).not.toContain("data/improve/nightly.lock");
  });
});
