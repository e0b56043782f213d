import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTinyModel } from "../test/helpers/tiny-model.js";
import { chatTemplateRenderer, exampleRenderer, ggufChatTemplate } from "./chat-template.js";
import { readGguf } from "./gguf/index.js";
import { renderExample } from "./prompt-template.js";

/** ChatML as Qwen-style GGUFs carry it in tokenizer.chat_template. */
const CHATML =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
/** Llama-2 style: starts with the BOS token, ends the answer with EOS. */
const LLAMA2 =
  "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}" +
  "{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + eos_token }}{% endif %}{% endfor %}";

const QUESTION = [
  { role: "system", content: "Be brief." },
  { role: "user", content: "How do I list files?" },
] as const;

describe("chat templates of base models", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "council-chat-template-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads tokenizer.chat_template and the BOS/EOS token texts from a GGUF, and renders examples with it", async () => {
    const path = await createTinyModel({ dir, name: "chatml.gguf", extraKv: [{ key: "tokenizer.chat_template", type: "string", value: CHATML }] });
    const template = ggufChatTemplate(readGguf(path));
    expect(template).toEqual({ template: CHATML, bosToken: "<s>", eosToken: "</s>" });
    const render = exampleRenderer(template);
    expect(render([...QUESTION], " ls -la ")).toEqual({
      prompt: "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHow do I list files?<|im_end|>\n<|im_start|>assistant\n",
      completion: "ls -la<|im_end|>\n",
    });
  });

  it("a GGUF without a chat template renders with the seedling's template", async () => {
    const path = await createTinyModel({ dir, name: "plain.gguf" });
    const template = ggufChatTemplate(readGguf(path));
    expect(template).toBeUndefined();
    expect(exampleRenderer(template)([...QUESTION], "ls -la")).toEqual(renderExample([...QUESTION], "ls -la"));
  });

  it("cuts a leading BOS (the trainer adds its own) and keeps the template's EOS in the completion", () => {
    const render = chatTemplateRenderer({ template: LLAMA2, bosToken: "<s>", eosToken: "</s>" });
    expect(render([{ role: "user", content: "hi" }], "hello")).toEqual({ prompt: "[INST] hi [/INST]", completion: " hello</s>" });
  });

  it("multi-turn: earlier turns are prompt, the final answer is the completion", () => {
    const render = chatTemplateRenderer({ template: CHATML });
    const { prompt, completion } = render(
      [
        { role: "user", content: "a?" },
        { role: "assistant", content: "A." },
        { role: "user", content: "b?" },
      ],
      "B.",
    );
    expect(prompt).toBe("<|im_start|>user\na?<|im_end|>\n<|im_start|>assistant\nA.<|im_end|>\n<|im_start|>user\nb?<|im_end|>\n<|im_start|>assistant\n");
    expect(completion).toBe("B.<|im_end|>\n");
  });

  it("fails with CHAT_TEMPLATE_INVALID on a template that does not parse, or that renders the prompt differently once the answer follows", () => {
    expect(() => chatTemplateRenderer({ template: "{% for message in messages %}" })).toThrow(expect.objectContaining({ code: "CHAT_TEMPLATE_INVALID" }));
    // Marks the last message: the prompt's last user turn renders differently when an answer follows it.
    const unstable = chatTemplateRenderer({ template: "{% for message in messages %}{% if loop.last %}LAST {% endif %}{{ message['content'] }} {% endfor %}" });
    expect(() => unstable([{ role: "user", content: "q" }], "a")).toThrow(expect.objectContaining({ code: "CHAT_TEMPLATE_INVALID" }));
  });
});
