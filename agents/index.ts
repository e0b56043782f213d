export { Agent0, AGENT0_SYSTEM_PROMPT, type Agent0Options, type Candidate, type RewriteInput, type RewriteResult } from "./agent0.js";
export {
  Answerer,
  ANSWER_PROMPT_DEFAULTS,
  ANSWERER_SYSTEM_PROMPT,
  buildAnswerMessages,
  renderAnswerPrompt,
  RunawayGuard,
  StopFilter,
  toChatMessages,
  type Answer,
  type AnswerInput,
  type AnswererOptions,
  type AnswerPromptInput,
  type HistoryTurn,
} from "./answerer.js";
export { Critic, CRITIC_SYSTEM_PROMPT, DEFAULT_CRITIC_WEIGHTS, type Critique, type CritiqueInput, type CriticHeuristicWeights, type CriticOptions } from "./critic.js";
export { hardChecks, isLooping, type HardCheck } from "./critic-checks.js";
export { commandGroundingCheck, noteCommands } from "./command-grounding.js";
export { groundedAnswer, groundedAnswers, rankUnits, splitUnits, type GroundedAnswer, type GroundedOptions, type RankedUnit, type Unit } from "./grounded-answer.js";
export { distinctiveWords, type DocumentFrequency } from "./distinctive-words.js";
export { fitWords, parseQuestion, stem, taskFit, type Fit, type QuestionTask } from "./question-fit.js";
export { checkShellCommand, commandShape, commandsIn, renderTldrCommand, sameCommand, type CommandShape, type ShellCheck } from "./shell-command.js";
export { fallbackAnswer, type FallbackAnswer, type FallbackOptions } from "./fallback-answer.js";
export { amendFromManual, chooseOption, DEFAULT_AMEND_THRESHOLDS, draftToAmend, type AmendInput, type AmendThresholds, type OptionAmendment } from "./option-amend.js";
export { Router, ROUTER_SYSTEM_PROMPT, type RouteDecision, type RouterOptions } from "./router.js";
export { FallbackBreaker, invokeStructured, runWithMode, type ModeRunOptions, type StructuredCallOptions } from "./structured-output.js";
export { contentWords, cosine, isStopword, overlap, words } from "./text.js";
export { DEFAULT_TOPICS, GENERAL_ROUTE, routeName, topicsFromDirectory, type Topic } from "./topics.js";
export type { AgentMode, AgentOutcome, AgentStep, CouncilChatModel } from "./types.js";
