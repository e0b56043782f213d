export { ChatGraph, drawChatGraph, type ChatGraphOptions, type CreateChatGraphOptions } from "./chat-graph.js";
export {
  defaultGraphSpec,
  graphSpecSchema,
  loadGraphSpec,
  NODE_IMPLEMENTATIONS,
  NODE_SLOTS,
  parseGraphSpec,
  type GraphSpec,
  type GraphSpecInput,
  type NodeSlot,
} from "./graph-spec.js";
export { DEFAULT_REVISE_NOTE, NODE_REGISTRY, type ChatNodeDeps, type ChatTurnCallbacks } from "./nodes.js";
export { ChatState, type AnswerSource, type Attempt, type ChatStateValue, type ChatTurnInput, type TurnAdapter } from "./state.js";
