import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, SEEDLING_PATH } from "../core/index.js";
import { checkTrainBase, trainBase } from "./train-base.js";
import { trainers } from "./trainers.js";

describe("the base each trainer trains on (COUNCIL_TRAIN_BASE)", () => {
  let dir: string;
  let gguf: string;
  let folder: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "council-train-base-"));
    gguf = join(dir, "served.gguf");
    await writeFile(gguf, "GGUF");
    folder = join(dir, "Qwen2.5-0.5B");
    await mkdir(folder);
    await writeFile(join(folder, "config.json"), JSON.stringify({ model_type: "qwen2" }));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("the registry says what each trainer takes, as a typed field", () => {
    expect(trainers.get("llamacpp-lora").capabilities.base).toBe("gguf");
    expect(trainers.get("qlora").capabilities.base).toBe("hf-checkpoint");
  });

  it("llamacpp-lora trains on the served model unless COUNCIL_TRAIN_BASE names another GGUF", () => {
    expect(trainBase({ config: loadConfig({ env: { COUNCIL_MODEL: gguf } }) })).toEqual({ path: gguf, kind: "gguf", source: "served-model" });
    expect(trainBase({ config: loadConfig({ env: {} }) }).path).toBe(SEEDLING_PATH);
    const other = join(dir, "f16.gguf");
    expect(trainBase({ config: loadConfig({ env: { COUNCIL_MODEL: gguf, COUNCIL_TRAIN_BASE: other } }) })).toEqual({ path: other, kind: "gguf", source: "training.base" });
  });

  it("qlora trains on the Hugging Face folder COUNCIL_TRAIN_BASE names, never on the served GGUF", () => {
    expect(trainBase({ config: loadConfig({ env: { COUNCIL_TRAINER: "qlora", COUNCIL_MODEL: gguf, COUNCIL_TRAIN_BASE: folder } }) })).toEqual({ path: folder, kind: "hf-checkpoint", source: "training.base" });
    let caught: unknown;
    try {
      trainBase({ config: loadConfig({ env: { COUNCIL_TRAINER: "qlora", COUNCIL_MODEL: gguf } }) });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: "CONFIG_INVALID", details: { key: "training.base", trainer: "qlora" } });
    expect((caught as Error).message).toContain("COUNCIL_TRAIN_BASE");
    expect((caught as Error).message).toContain(gguf);
  });

  it("checkTrainBase accepts a GGUF for llamacpp-lora and a folder for qlora", async () => {
    await expect(checkTrainBase({ config: loadConfig({ env: { COUNCIL_MODEL: gguf } }) })).resolves.toMatchObject({ ok: true, detail: expect.stringContaining(`llamacpp-lora trains on ${gguf} (GGUF, from the served model)`) });
    await expect(checkTrainBase({ config: loadConfig({ env: { COUNCIL_TRAINER: "qlora", COUNCIL_TRAIN_BASE: folder } }) })).resolves.toMatchObject({ ok: true, detail: expect.stringContaining("Hugging Face folder, from COUNCIL_TRAIN_BASE") });
  });

  it.each([
    ["qlora + a .gguf base", { COUNCIL_TRAINER: "qlora", COUNCIL_TRAIN_BASE: "<gguf>" }, "qlora trains on a Hugging Face model folder, but the base <gguf> is a file (a GGUF)", "COUNCIL_TRAINER=llamacpp-lora"],
    ["qlora with no base set", { COUNCIL_TRAINER: "qlora", COUNCIL_MODEL: "<gguf>" }, "not on the served GGUF (<gguf>)", "COUNCIL_TRAIN_BASE"],
    ["llamacpp-lora + a folder", { COUNCIL_TRAIN_BASE: "<folder>" }, "llamacpp-lora trains on a GGUF file, but the base <folder> is a folder", "COUNCIL_TRAINER=qlora"],
    ["a base that does not exist", { COUNCIL_TRAIN_BASE: "<missing>" }, "llamacpp-lora base <missing> (training.base) does not exist", "COUNCIL_TRAIN_BASE"],
    ["an hf: model URI", { COUNCIL_MODEL: "hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF" }, "needs a local path", "COUNCIL_TRAIN_BASE"],
  ])("checkTrainBase names the problem and the fix: %s", async (_name, env, problem, fix) => {
    const paths: Record<string, string> = { "<gguf>": gguf, "<folder>": folder, "<missing>": join(dir, "missing.gguf") };
    const resolved = Object.fromEntries(Object.entries(env).map(([key, value]) => [key, paths[value] ?? value]));
    const check = await checkTrainBase({ config: loadConfig({ env: resolved }) });
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.problem).toContain(Object.entries(paths).reduce((text, [name, path]) => text.replaceAll(name, path), problem));
    expect(check.fix).toContain(fix);
  });
});
