/**
 * The plain-text chat template of the seedling (and of any GGUF without a chat template of its own).
 * The answerer renders prompts with it at inference, and training renders examples with the very same
 * function, so an adapter learns exactly the task it serves.
 *
 * ```
 * ### System:
 * {system}
 *
 * ### User:
 * {user}
 *
 * ### Assistant:
 * {assistant}<END>
 * ```
 */
export const TEMPLATE_MARKERS = {
  system: "### System:\n",
  user: "### User:\n",
  assistant: "### Assistant:\n",
  /** Ends an assistant turn. Generation stops on it. */
  end: "\n###",
} as const;

export type TemplateRole = "system" | "user" | "assistant";

export interface TemplateMessage {
  role: TemplateRole;
  content: string;
}

/**
 * Renders messages as the prompt text. When the last message is not from the assistant, the prompt ends
 * with an open assistant header so the model continues with the answer.
 */
export function renderPrompt(messages: readonly TemplateMessage[]): string {
  let text = "";
  for (const message of messages) {
    text += `${TEMPLATE_MARKERS[message.role]}${message.content.trim()}\n\n`;
  }
  const last = messages[messages.length - 1];
  if (last === undefined || last.role !== "assistant") text += TEMPLATE_MARKERS.assistant;
  return text;
}

/** Renders one training example: the prompt (loss-masked) and the completion (trained on). */
export function renderExample(messages: readonly TemplateMessage[], answer: string): { prompt: string; completion: string } {
  return { prompt: renderPrompt(messages), completion: `${answer.trim()}${TEMPLATE_MARKERS.end}` };
}
