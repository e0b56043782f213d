import { readFileSync } from "node:fs";
import { z } from "zod";
import { CouncilError, safeParseJson } from "../../core/index.js";

/** The node slots of the chat graph, in order. */
export const NODE_SLOTS = ["router", "recall", "answerer", "amend", "critic", "revise", "record"] as const;
export type NodeSlot = (typeof NODE_SLOTS)[number];

/** Implementations a spec can name per slot (the registry in nodes.ts provides each). */
export const NODE_IMPLEMENTATIONS = {
  router: ["router", "general"],
  recall: ["kb+memory", "kb", "none"],
  answerer: ["llm", "kb-grounded"],
  amend: ["manual", "none"],
  critic: ["critic"],
  revise: ["llm-retry", "kb-grounded", "none"],
  record: ["memory"],
} as const satisfies Record<NodeSlot, readonly string[]>;

const prompt = z.string().trim().min(1).max(8000);

/**
 * A researcher's graph spec (JSON, `COUNCIL_GRAPH_SPEC`): which implementation runs in each node slot, prompt
 * overrides, retrieval sizes, and revision policy. Every field is optional; unknown keys are rejected.
 */
export const graphSpecSchema = z
  .object({
    nodes: z
      .object({
        router: z.enum(NODE_IMPLEMENTATIONS.router).default("router"),
        recall: z.enum(NODE_IMPLEMENTATIONS.recall).default("kb+memory"),
        answerer: z.enum(NODE_IMPLEMENTATIONS.answerer).default("llm"),
        // `manual`: when the question asks for something none of the notes' examples of the answer's tool covers, the
        // option of the tool's local manual page that clearly answers it is added to the command (agents/option-amend.ts).
        amend: z.enum(NODE_IMPLEMENTATIONS.amend).default("manual"),
        critic: z.enum(NODE_IMPLEMENTATIONS.critic).default("critic"),
        revise: z.enum(NODE_IMPLEMENTATIONS.revise).default("llm-retry"),
        record: z.enum(NODE_IMPLEMENTATIONS.record).default("memory"),
      })
      .strict()
      .default({}),
    prompts: z
      .object({
        /** Router system prompt; `{topics}` becomes the topic list. */
        router: prompt.optional(),
        /** Answerer system prompt (training renders with it too). */
        answerer: prompt.optional(),
        critic: prompt.optional(),
        agent0: prompt.optional(),
        /** Note added to the answerer's system prompt on a revision; `{answer}` and `{reasons}` are filled in. */
        revise: prompt.optional(),
      })
      .strict()
      .default({}),
    recall: z
      .object({
        passages: z.number().int().min(0).max(20).default(3),
        memories: z.number().int().min(0).max(20).default(3),
        // Earlier exchanges of the session in the answerer's prompt. 0 by default: the reading seedling and every nightly
        // adapter are trained on single-turn prompts, and with the last 2 exchanges in its prompt the seedling copied
        // from them ("`mount` — find files by extension", bench improve 2026-12-07). A model that follows a
        // conversation can be given some in the spec.
        history: z.number().int().min(0).max(10).default(0),
      })
      .strict()
      .default({}),
    /**
     * Verified memory in the turn: above `reuseThreshold` the verified answer answers (the critic still checks it);
     * between `hintThreshold` and `reuseThreshold` it goes into the answerer's prompt as a worked example.
     * Thresholds default to config.agents.verifiedReuseThreshold / verifiedHintThreshold.
     */
    verified: z
      .object({
        reuse: z.boolean().default(true),
        // Off by default: the reading seedling was not trained with worked examples in its prompt, and one made it answer
        // a question it knew wrong (e2e closed loop, 2026-12-06). A model that handles them can turn hints on in the spec.
        hint: z.boolean().default(false),
        reuseThreshold: z.number().min(0).max(1).optional(),
        hintThreshold: z.number().min(0).max(1).optional(),
        k: z.number().int().min(1).max(10).default(3),
      })
      .strict()
      .default({}),
    /**
     * What the user gets when the critic still fails the answer after the allowed revisions: `kb` — the best
     * grounded unit of the knowledge base with its source, or an honest "I don't know" with the closest passage;
     * `none` — the failed answer itself (for comparing variants only).
     */
    fallback: z.enum(["kb", "none"]).default("kb"),
    /** Overrides config.agents.maxRevisions. */
    maxRevisions: z.number().int().min(0).max(5).optional(),
    /** Overrides config.agents.criticThreshold. */
    criticThreshold: z.number().min(0).max(1).optional(),
    /**
     * The critic fails an answer whose command the retrieved notes do not teach (unknown tool or option, a dropped
     * subcommand or argument, another task's command); `false` judges the words only (for comparing variants).
     */
    groundCommands: z.boolean().default(true),
  })
  .strict();

export type GraphSpec = z.infer<typeof graphSpecSchema>;
export type GraphSpecInput = z.input<typeof graphSpecSchema>;

/** The default spec (every default above). */
export function defaultGraphSpec(): GraphSpec {
  return graphSpecSchema.parse({});
}

/** Validates a spec object; CONFIG_INVALID names the offending field. */
export function parseGraphSpec(input: unknown, source = "graph spec"): GraphSpec {
  const parsed = graphSpecSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CouncilError("CONFIG_INVALID", `Invalid ${source} at "${issue.path.join(".") || "(root)"}": ${issue.message}`, { details: { path: issue.path.join(".") } });
  }
  return parsed.data;
}

/** Reads and validates a spec file (COUNCIL_GRAPH_SPEC); the default spec when `path` is undefined. */
export function loadGraphSpec(path: string | undefined): GraphSpec {
  if (path === undefined) return defaultGraphSpec();
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new CouncilError("CONFIG_INVALID", `Cannot read graph spec ${path} (COUNCIL_GRAPH_SPEC): ${(cause as Error).message}`, { cause });
  }
  const result = safeParseJson(text, z.unknown(), "CONFIG_INVALID");
  if (!result.success) throw new CouncilError("CONFIG_INVALID", `Graph spec ${path}: ${result.error.message}`, { cause: result.error });
  return parseGraphSpec(result.value, `graph spec ${path}`);
}
