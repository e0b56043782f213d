import { Template } from "@huggingface/jinja";
import { CouncilError } from "../core/index.js";
import type { GgufFile } from "./gguf/index.js";
import { renderExample, type TemplateMessage } from "./prompt-template.js";

/** A model's own Jinja chat template (GGUF `tokenizer.chat_template`, as in Hugging Face's tokenizer_config.json). */
export interface ChatTemplate {
  template: string;
  /** Text of the BOS token; the trainer adds BOS itself, so a leading one is cut from rendered text. */
  bosToken?: string;
  eosToken?: string;
}

/** Renders one training example: the prompt (loss-masked) and the completion (trained on). */
export type ExampleRenderer = (messages: readonly TemplateMessage[], answer: string) => { prompt: string; completion: string };

/** The chat template in a parsed GGUF's metadata, with its BOS/EOS token texts; undefined when it has none. */
export function ggufChatTemplate(file: GgufFile): ChatTemplate | undefined {
  const template = file.metadata.get("tokenizer.chat_template");
  if (typeof template !== "string" || template.trim() === "") return undefined;
  const tokens = file.metadata.get("tokenizer.ggml.tokens");
  const tokenText = (key: string): string | undefined => {
    const id = file.metadata.get(key);
    if (!Array.isArray(tokens) || typeof id !== "number") return undefined;
    const text: unknown = tokens[id];
    return typeof text === "string" ? text : undefined;
  };
  const bosToken = tokenText("tokenizer.ggml.bos_token_id");
  const eosToken = tokenText("tokenizer.ggml.eos_token_id");
  return { template, ...(bosToken !== undefined ? { bosToken } : {}), ...(eosToken !== undefined ? { eosToken } : {}) };
}

/**
 * Renders examples with a model's own chat template, the way TRL splits a conversational prompt/completion:
 * prompt = the template over the prompt messages with `add_generation_prompt`, completion = what the
 * template adds for the final assistant answer (its end-of-turn marker included). Throws CHAT_TEMPLATE_INVALID
 * when the template does not parse, fails to render, or renders the prompt differently once the answer follows.
 */
export function chatTemplateRenderer(chatTemplate: ChatTemplate): ExampleRenderer {
  let template: Template;
  try {
    template = new Template(chatTemplate.template);
  } catch (cause) {
    throw new CouncilError("CHAT_TEMPLATE_INVALID", `The model's chat template does not parse: ${(cause as Error).message}`, { cause });
  }
  const { bosToken = "", eosToken = "" } = chatTemplate;
  const render = (messages: readonly TemplateMessage[], addGenerationPrompt: boolean): string => {
    let text: string;
    try {
      text = template.render({ messages: messages.map((m) => ({ role: m.role, content: m.content })), add_generation_prompt: addGenerationPrompt, bos_token: bosToken, eos_token: eosToken });
    } catch (cause) {
      throw new CouncilError("CHAT_TEMPLATE_INVALID", `The model's chat template failed to render: ${(cause as Error).message}`, { cause });
    }
    return bosToken !== "" && text.startsWith(bosToken) ? text.slice(bosToken.length) : text;
  };
  return (messages, answer) => {
    const prompt = render(messages, true);
    const full = render([...messages, { role: "assistant", content: answer.trim() }], false);
    if (!full.startsWith(prompt)) {
      throw new CouncilError("CHAT_TEMPLATE_INVALID", "The model's chat template renders the prompt differently once the answer follows, so the answer cannot be cut out for training.");
    }
    return { prompt, completion: full.slice(prompt.length) };
  };
}

/** The model's own template when it has one, the seedling's plain-text template ({@link renderExample}) otherwise. */
export function exampleRenderer(chatTemplate: ChatTemplate | undefined): ExampleRenderer {
  return chatTemplate !== undefined ? chatTemplateRenderer(chatTemplate) : renderExample;
}
