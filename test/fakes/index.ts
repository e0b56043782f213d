export {
  FakeChatModel,
  splitTokens,
  type FakeChatCall,
  type FakeChatCallInfo,
  type FakeChatModelOptions,
  type ScriptedTurn,
} from "./fake-chat-model.js";
