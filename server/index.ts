export { buildApp } from "./build-app.js";
export { type AppDeps, type CouncilServices } from "./services.js";
export { DeferredRuntime, deferredImprovement } from "./deferred-runtime.js";
export { type ImprovementControl } from "./plugins/improve-routes.js";
export {
  clientFrameSchema,
  serverFrameSchema,
  chatFrameSchema,
  feedbackFrameSchema,
  finalFrameSchema,
  errorFrameSchema,
  type ChatFrame,
  type FeedbackFrame,
  type ClientFrame,
  type ServerFrame,
  type ErrorFrame,
} from "./frames.js";
export { userIdForToken } from "./auth.js";
export { GenerationQueue, type GenerationQueueOptions } from "./generation-queue.js";
export { TokenBucket } from "./rate-limiter.js";
export { askOverWebSocket, type AskOptions } from "./chat-client.js";
export { startServer, type StartServerOptions, type RunningServer } from "./start-server.js";
