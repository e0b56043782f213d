import type { BaseMessage } from "@langchain/core/messages";
import { CouncilError } from "../core/index.js";
import type { TemplateMessage, TemplateRole } from "./prompt-template.js";

/** The text of a LangChain message (string content, or the text parts of multi-part content). */
export function messageText(message: BaseMessage): string {
  const content = message.content;
  if (typeof content === "string") return content;
  return content
    .map((part) => (typeof part === "string" ? part : part.type === "text" && typeof part.text === "string" ? part.text : ""))
    .join("");
}

/**
 * Maps LangChain messages onto the roles of the plain-text template. Tool results are shown to the model as
 * user turns; anything else unknown is a bug in the caller (FRAME_INVALID).
 */
export function toTemplateMessages(messages: readonly BaseMessage[]): TemplateMessage[] {
  return messages.map((message) => ({ role: roleOf(message), content: messageText(message) }));
}

function roleOf(message: BaseMessage): TemplateRole {
  const type = message.getType();
  switch (type) {
    case "system":
    case "developer":
      return "system";
    case "human":
    case "tool":
    case "function":
      return "user";
    case "ai":
      return "assistant";
    case "generic": {
      const role = (message as BaseMessage & { role?: string }).role;
      if (role === "system" || role === "user" || role === "assistant") return role;
      break;
    }
    default:
      break;
  }
  throw new CouncilError("FRAME_INVALID", `Cannot render a chat message of type "${type}" for the model.`, { details: { type } });
}
