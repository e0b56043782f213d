import { DEFAULT_TOPICS, type AgentMode } from "../../agents/index.js";
import { silentLogger } from "../../core/index.js";
import { HashEmbeddings } from "../../models/embeddings/hash-embeddings.js";
import { FakeChatModel, FakeKnowledgeBase, FakeMemoryStore, type ScriptedTurn } from "../../test/fakes/index.js";
import { ChatGraph } from "./chat-graph.js";
import { parseGraphSpec, type GraphSpecInput } from "./graph-spec.js";
import type { KnowledgeBase, OptionManual, VerifiedMemory } from "../../memory/index.js";
import type { ChatTurnInput } from "./state.js";

export const KB_PASSAGES = [
  { id: "ls", title: "ls", text: "- List all files, including hidden files:\n\n`ls -a`\n\n- Long format list with permissions:\n\n`ls -l`" },
  { id: "vpn", title: "Reconnect the VPN", text: "If the VPN drops, open the VPN client and press Reconnect." },
];

export interface TestGraphOptions {
  turns?: ScriptedTurn[];
  modes?: { router?: AgentMode; critic?: AgentMode };
  spec?: GraphSpecInput;
  maxRevisions?: number;
  verified?: VerifiedMemory;
  /** @default a FakeKnowledgeBase over KB_PASSAGES */
  knowledgeBase?: KnowledgeBase;
  /** Tool options for the amend node. @default none (answers are never amended) */
  manual?: OptionManual;
}

/** A chat graph on the scripted fake model, fake stores and real hash embeddings. */
export async function testGraph({ turns = [], modes = {}, spec, maxRevisions = 1, verified, knowledgeBase = new FakeKnowledgeBase(KB_PASSAGES), manual }: TestGraphOptions = {}) {
  const model = new FakeChatModel({ turns, modelName: "fake-seedling" });
  const embeddings = new HashEmbeddings({ dimensions: 256 });
  const memory = new FakeMemoryStore();
  const graph = await ChatGraph.create({
    model,
    embeddings,
    topics: DEFAULT_TOPICS,
    modes: { router: modes.router ?? "auto", critic: modes.critic ?? "auto" },
    memory,
    knowledgeBase,
    ...(verified ? { verified } : {}),
    ...(manual ? { manual } : {}),
    spec: parseGraphSpec(spec ?? {}),
    modelName: "fake-seedling",
    threshold: 0.5,
    maxRevisions,
    logger: silentLogger,
  });
  return { model, memory, knowledgeBase, graph, embeddings };
}

export function turnInput(question: string, extra: Partial<ChatTurnInput> = {}): ChatTurnInput {
  return { traceId: "t-1", sessionId: "s-1", userId: "u-1", question, history: [], adapter: null, startedAt: Date.now(), ...extra };
}
