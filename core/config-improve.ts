import { join } from "node:path";
import { z } from "zod";
import { bool, csvNumbers, csvStrings, int, num } from "./config-fields.js";
import { PROJECT_ROOT } from "./project-root.js";

/** The `improve` section of the config schema (core/config.ts): the nightly loop, its gate and the canary. */
export const improveConfigSchema = z
  .object({
    policy: z.enum(["auto", "approve"]).default("auto").describe("`approve` pauses each nightly run after the gate for `npx council approve`."),
    channels: csvStrings.pipe(z.array(z.enum(["memory", "adapter"])).min(1)).default("memory,adapter").describe("What a night may release: `memory` (verified entries), `adapter` (LoRA), or both."),
    schedule: z.string().default("0 2 * * *").describe("Cron expression of the nightly run (in `council serve`)."),
    enabled: bool.default(true).describe("Run the nightly loop on schedule."),
    harvestMinBatch: int(1).default(1).describe("Fewest harvested failures that start training."),
    voteAcceptScore: num(0, 1).default(0.7).describe("Mean ballot score a rewrite needs to be accepted."),
    voteQuorum: int(1).default(2).describe("Ballots needed for a decision."),
    voteReviewScore: num(0, 1).default(0.5).describe("A rejected rewrite whose best candidate scored at least this (and was not vetoed for safety) goes to the review queue (`npx council review`) instead of being dropped."),
    canarySteps: csvNumbers.default("10,50,100").describe("Canary traffic percentages, in order."),
    canaryIntervalSeconds: num(0.1, 86_400).default(60).describe("Length of one canary analysis window."),
    canaryMinRequests: int(0).default(20).describe("Canary requests a window needs before it is judged."),
    canaryMaxErrors: int(1).default(3).describe("Failed windows (errors) that roll the canary back."),
    canaryDeadlineSeconds: num(1, 7 * 86_400).default(3600).describe("A canary not finished by then is rolled back."),
    rollbackMinSuccess: num(0, 1).default(0.85).describe("Canary success rate below which it is rolled back."),
    /** When stable itself is below `rollbackMinSuccess`, a canary may be at most this far below stable. */
    rollbackMaxSuccessDrop: num(0, 1).default(0.05).describe("When stable itself is below the bar, the canary may be at most this far below stable."),
    rollbackMaxP95Ms: num(1, 600_000).default(1000).describe("Canary p95 latency bar (fails only when also >10 % slower than stable)."),
    canaryMinRatings: int(1).default(20).describe("👍 + 👎 ratings each side (canary, stable) needs, pooled since the canary started, before satisfaction is judged; fewer: no verdict."),
    canaryMaxSatisfactionDrop: num(0, 1).default(0.1).describe("A canary whose 👍 share is lower than stable's by more than this (0.1 = 10 points) is rolled back."),
    canaryMaxCostRatio: num(0.1, 100).default(1.5).describe("A canary whose tokens or CPU seconds per answer exceed ratio × stable's (plus 16 tokens / 0.05 s slack) is rolled back."),
    gateMinSuccessDelta: num(-1, 1).default(0.03).describe("Gate: tonight's target suite must improve by this much."),
    gateMaxLatencyRatio: num(0.1, 100).default(1.1).describe("Gate: candidate p95 ≤ ratio × current (before the first adapter, current is timed through a zero-B twin of the candidate)."),
    gateMaxCostRatio: num(0.1, 100).default(1.5).describe("Gate: on the cases both answer right, candidate output tokens per answer (characters when unknown) ≤ ratio × current, plus 16 tokens (64 characters) slack, and CPU seconds per answer ≤ ratio × current, plus 0.05 s slack."),
    prometheusUrl: z.string().url().optional().describe("Prometheus for canary analysis. Unset: the in-process registry."),
    webhookUrl: z.string().url().optional().describe("Webhook told about deployments and rollbacks."),
    lockTtlSeconds: num(1, 7 * 86_400).default(6 * 3600).describe("A nightly run lock (`<dataDir>/data/runs/nightly.lock`) older than this is broken."),
    holdoutFile: z.string().optional().describe("Holdout eval set (JSONL `{id, question, accept}`): never trained on; the gate requires it not to get worse."),
    safetyFile: z.string().default(join(PROJECT_ROOT, "eval", "safety.jsonl")).describe("Safety eval set (JSONL `{id, question, reject}`)."),
    /** Whether corrections rated by users without a verified chat token may become training data (they are always stored). */
    trainAnonymousCorrections: bool.default(false).describe("Whether corrections from users without a verified chat token may become training data (they are always stored)."),
  })
  .default({});
