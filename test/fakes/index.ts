export {
  FakeChatModel,
  splitTokens,
  type FakeChatCall,
  type FakeChatCallInfo,
  type FakeChatModelOptions,
  type ScriptedTurn,
} from "./fake-chat-model.js";
export { FakeKnowledgeBase } from "./fake-knowledge-base.js";
export { FakeMemoryStore } from "./fake-memory-store.js";
