import { AIMessage, ChatMessage, HumanMessage, SystemMessage, ToolMessage } from "@langchain/core/messages";
import { describe, expect, it } from "vitest";
import { isCouncilError } from "../core/index.js";
import { toTemplateMessages } from "./langchain-messages.js";

describe("toTemplateMessages", () => {
  it("maps LangChain roles onto the template roles and keeps text parts", () => {
    const messages = toTemplateMessages([
      new SystemMessage("sys"),
      new HumanMessage({ content: [{ type: "text", text: "part one " }, { type: "text", text: "part two" }] }),
      new AIMessage("answer"),
      new ToolMessage({ content: "tool result", tool_call_id: "t1" }),
      new ChatMessage("generic", "assistant"),
    ]);
    expect(messages).toEqual([
      { role: "system", content: "sys" },
      { role: "user", content: "part one part two" },
      { role: "assistant", content: "answer" },
      { role: "user", content: "tool result" },
      { role: "assistant", content: "generic" },
    ]);
  });

  it("refuses a generic message with an unknown role (FRAME_INVALID)", () => {
    let error: unknown;
    try {
      toTemplateMessages([new ChatMessage("x", "narrator")]);
    } catch (caught) {
      error = caught;
    }
    expect(isCouncilError(error, "FRAME_INVALID")).toBe(true);
  });
});
