import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configSchema } from "../core/index.js";
import { HF_TARGET_NAMES, hfChatTemplate, inspectHfBase } from "./qlora-trainer.js";

describe("a Hugging Face folder's own chat template (tokenizer_config.json), for qlora's conversational data", () => {
  let dir: string;
  let n = 0;
  const folder = async (tokenizerConfig?: unknown) => {
    const path = join(dir, `model-${n++}`);
    await mkdir(path);
    await writeFile(join(path, "config.json"), JSON.stringify({ model_type: "qwen2" }));
    if (tokenizerConfig !== undefined) await writeFile(join(path, "tokenizer_config.json"), typeof tokenizerConfig === "string" ? tokenizerConfig : JSON.stringify(tokenizerConfig));
    return path;
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "council-hf-template-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads a string template with its BOS/EOS texts (plain or {content}), and the `default` one of a list", async () => {
    expect(await hfChatTemplate(await folder({ chat_template: "{{ messages }}", bos_token: "<s>", eos_token: { content: "</s>", lstrip: false } }))).toEqual({ template: "{{ messages }}", bosToken: "<s>", eosToken: "</s>" });
    expect(await hfChatTemplate(await folder({ chat_template: [{ name: "tool_use", template: "T" }, { name: "default", template: "D" }], bos_token: null }))).toEqual({ template: "D" });
  });

  it("has none without tokenizer_config.json or chat_template, and inspectHfBase passes it on", async () => {
    expect(await hfChatTemplate(await folder())).toBeUndefined();
    expect(await hfChatTemplate(await folder({ eos_token: "</s>" }))).toBeUndefined();
    const withTemplate = await folder({ chat_template: "X" });
    await expect(inspectHfBase(withTemplate)).resolves.toMatchObject({ name: "qwen2", chatTemplate: { template: "X" } });
    await expect(inspectHfBase(await folder())).resolves.not.toHaveProperty("chatTemplate");
  });

  it("a tokenizer_config.json that is not JSON is MODEL_INVALID", async () => {
    await expect(hfChatTemplate(await folder("{not json"))).rejects.toMatchObject({ code: "MODEL_INVALID" });
  });

  it("maps every default LoRA target, the output head included, to a PEFT module", () => {
    expect(HF_TARGET_NAMES["output.weight"]).toBe("lm_head");
    const defaults = configSchema.parse({}).training.targets;
    expect(defaults.filter((target) => HF_TARGET_NAMES[target] === undefined)).toEqual([]);
  });
});
