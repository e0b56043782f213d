import { z } from "zod";
import type { TemplateMessage } from "../models/index.js";

/**
 * The line formats `council train --data` accepts (TRL's dataset formats):
 * - prompt/completion text, already rendered: `{"prompt": string, "completion": string}`;
 * - conversational: `{"messages": [{"role": "system"|"user"|"assistant", "content": string}, ...]}`;
 * - conversational prompt/completion: `{"prompt": [messages], "completion": [messages]}`.
 * A conversation trains on its final assistant message; every earlier message (earlier turns too) is prompt.
 */
export const ACCEPTED_FORMATS =
  'expected {"prompt": string, "completion": string}, or conversational {"messages": [{"role": "system"|"user"|"assistant", "content": string}, ...]} ' +
  '(or {"prompt": [messages], "completion": [messages]}) ending with an assistant message';

export const promptCompletionSchema = z.object({ prompt: z.string(), completion: z.string() }).passthrough();

const messageSchema = z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() }).passthrough();
const messagesSchema = z.array(messageSchema);
const conversationSchema = z.object({ messages: messagesSchema }).passthrough();
const conversationalPromptCompletionSchema = z.object({ prompt: messagesSchema, completion: messagesSchema }).passthrough();

export type DatasetLine =
  | { kind: "text"; prompt: string; completion: string }
  /** `messages` is the prompt (every message before the final assistant answer). */
  | { kind: "conversation"; messages: TemplateMessage[]; answer: string };

export type DatasetLineResult = { success: true; value: DatasetLine } | { success: false; error: string };

/** The first schema problem as `at messages[2].role: ...`, so the user sees which field is wrong. */
function firstIssue(error: z.ZodError, root: string): string {
  const issue = error.issues[0];
  if (issue === undefined) return "";
  const path = issue.path.reduce<string>((text, part) => (typeof part === "number" ? `${text}[${part}]` : text === "" ? String(part) : `${text}.${part}`), root);
  return ` (at ${path}: ${issue.message})`;
}

function conversation(all: readonly TemplateMessage[]): DatasetLineResult {
  const last = all[all.length - 1];
  if (last === undefined || last.role !== "assistant") return { success: false, error: `the last message must be from the assistant (the answer trained on); ${ACCEPTED_FORMATS}.` };
  if (last.content.trim() === "") return { success: false, error: "the final assistant message is empty." };
  if (all.length < 2) return { success: false, error: "a conversation needs at least one message before the final assistant answer." };
  return { success: true, value: { kind: "conversation", messages: all.slice(0, -1).map((m) => ({ role: m.role, content: m.content })), answer: last.content } };
}

/** Parses one JSON value from a dataset line into a text example or a conversation. */
export function parseDatasetLine(value: unknown): DatasetLineResult {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { success: false, error: `not a JSON object; ${ACCEPTED_FORMATS}.` };
  if ("messages" in value) {
    const parsed = conversationSchema.safeParse(value);
    if (!parsed.success) return { success: false, error: `${ACCEPTED_FORMATS}${firstIssue(parsed.error, "")}.` };
    return conversation(parsed.data.messages);
  }
  if ("prompt" in value && Array.isArray(value.prompt)) {
    const parsed = conversationalPromptCompletionSchema.safeParse(value);
    if (!parsed.success) return { success: false, error: `${ACCEPTED_FORMATS}${firstIssue(parsed.error, "")}.` };
    return conversation([...parsed.data.prompt, ...parsed.data.completion]);
  }
  const parsed = promptCompletionSchema.safeParse(value);
  if (!parsed.success) return { success: false, error: `${ACCEPTED_FORMATS}${firstIssue(parsed.error, "")}.` };
  if (parsed.data.completion.trim() === "") return { success: false, error: "completion is empty." };
  return { success: true, value: { kind: "text", prompt: parsed.data.prompt, completion: parsed.data.completion } };
}
