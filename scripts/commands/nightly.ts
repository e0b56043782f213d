import type { Command } from "commander";
import { z } from "zod";
import { createLogger, createMetrics, CouncilError, dataPaths, isCouncilError, loadConfig, safeParseJson, type CouncilConfig } from "../../core/index.js";
import { createCouncilRuntime, readRunProgress, type Improvement, type RunSummary } from "../../council/index.js";
import { openRunLocker } from "../../cron/index.js";
import { resolveRunTarget, type RunTarget } from "./local-server.js";
import { ProgressWatcher } from "./run-progress-view.js";
import { cliActor } from "./cli-actor.js";

const POLL_MS = 2000;

/** The verified server of this data dir (runs belong in it: its model, memory and canary traffic live there), else this process. */
async function resolveTarget(config: CouncilConfig): Promise<RunTarget> {
  const target = await resolveRunTarget({ config });
  if (target.kind === "in-process" && target.note) console.error(`council: ${target.note}`);
  return target;
}

const jobSchema = z.object({
  running: z.boolean(),
  summary: z.unknown().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});

type VerifiedServer = Extract<RunTarget, { kind: "server" }>;

/** Only ever called with a server whose identity resolveRunTarget verified. */
async function adminCall(server: VerifiedServer, path: string, init: { method: "GET" | "POST"; body?: unknown }): Promise<z.infer<typeof jobSchema>> {
  const response = await fetch(`${server.url}${path}`, {
    method: init.method,
    redirect: "manual",
    headers: { authorization: `Bearer ${server.token}`, ...(init.body === undefined ? {} : { "content-type": "application/json" }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  if (!response.ok) {
    const error = safeParseJson(text, z.object({ code: z.string(), message: z.string() }));
    if (error.success && error.value.code === "RUN_LOCKED") throw new CouncilError("RUN_LOCKED", error.value.message);
    throw new CouncilError("BACKEND_UNAVAILABLE", `The server answered ${response.status}: ${error.success ? `${error.value.code}: ${error.value.message}` : text.slice(0, 200)}`);
  }
  const parsed = safeParseJson(text, jobSchema);
  if (!parsed.success) throw new CouncilError("BACKEND_UNAVAILABLE", `Unexpected answer from the server: ${parsed.error.message}`);
  return parsed.value;
}

export async function viaServer(server: VerifiedServer, start: { path: string; body?: unknown }): Promise<RunSummary> {
  let job = await adminCall(server, start.path, { method: "POST", body: start.body ?? {} });
  while (job.running) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    job = await adminCall(server, "/api/improve/job", { method: "GET" });
  }
  if (job.error) throw new CouncilError(job.error.code as CouncilError["code"], job.error.message);
  return job.summary as RunSummary;
}

/**
 * Runs `task` on a runtime built in this process. Logs go to stderr, never stdout: stdout carries the command's
 * output alone (one JSON document under --json).
 */
async function inProcess<T>(config: CouncilConfig, task: (improvement: Improvement) => Promise<T>): Promise<T> {
  const logger = createLogger(config, process.stderr);
  const bundle = await createCouncilRuntime({ config, logger, metrics: createMetrics({ defaultMetrics: false }) });
  try {
    if (bundle.improvement === null) throw new CouncilError("BACKEND_UNAVAILABLE", `The ${config.model.backend} backend cannot serve LoRA adapters; the nightly loop needs the llama backend.`);
    return await task(bundle.improvement);
  } finally {
    await bundle.council.dispose();
  }
}

function printSummary(summary: RunSummary, json: boolean | undefined): void {
  if (json) {
    console.log(JSON.stringify(summary, null, 2));
    return;
  }
  console.log(`run ${summary.runId}: ${summary.outcome}`);
  for (const reason of summary.reasons) console.log(`  reason: ${reason}`);
  console.log(`  harvested ${summary.harvested}, accepted ${summary.accepted}, trained on ${summary.datasetExamples} example(s) in ${summary.trainingSeconds.toFixed(1)} s${summary.finalLoss === null ? "" : ` (final loss ${summary.finalLoss.toFixed(3)})`}`);
  for (const suite of summary.suites) console.log(`  gate ${suite.suite}: ${suite.passed ? "pass" : "FAIL"} — ${suite.reason}`);
  if (summary.version) console.log(`  version ${summary.version}`);
}

/**
 * Clean outcomes exit 0; "locked" is clean too (another run is doing the work: say which, and how to follow it).
 * While the task runs, the night's progress (stages, training epochs) goes to stderr.
 */
async function runReporting(config: CouncilConfig, json: boolean | undefined, task: () => Promise<RunSummary>): Promise<void> {
  const runsDir = dataPaths(config).runs;
  const watcher = new ProgressWatcher({ runsDir, stream: process.stderr }).start();
  let summary: RunSummary;
  try {
    summary = await task();
  } catch (error) {
    if (!isCouncilError(error, "RUN_LOCKED")) throw error;
    const running = readRunProgress(runsDir);
    // The holder may be another replica (Postgres lock): its progress is not in this data dir, but the lock names it.
    const what = running ? `night ${running.runId} is at stage ${running.stage} (started ${new Date(running.startedAt).toISOString()})` : error.message;
    const reason = `${what}; follow it with: npx council status`;
    console.log(json ? JSON.stringify({ outcome: "locked", reason, ...(running ? { running } : {}) }) : `locked: ${reason}`);
    return;
  } finally {
    watcher.stop();
  }
  printSummary(summary, json);
}

export function register(program: Command): void {
  program
    .command("nightly")
    .description("Run the self-improvement loop: harvest → Agent-0 → vote → train → gate → deploy → canary → promote or roll back")
    .requiredOption("--once", "run one night now (blocks until it ends or waits for approval)")
    .option("--dry-run", "only harvest, rewrite and vote: print what would be trained, change nothing")
    .option("--json", "print the run summary as JSON")
    .action(async (options: { once: boolean; dryRun?: boolean; json?: boolean }) => {
      const config = loadConfig();
      if (options.dryRun) {
        const preview = await inProcess(config, (improvement) => improvement.preview({ vote: true }));
        if (options.json) console.log(JSON.stringify(preview, null, 2));
        else {
          console.log(`dry run: ${preview.items.length} failure(s) harvested from ${preview.turns} failed turn(s) since ${new Date(preview.since).toISOString()}`);
          for (const decision of preview.decisions) {
            const item = preview.items.find((i) => i.id === decision.itemId);
            const winner = preview.candidates.find((c) => c.id === decision.winnerId);
            console.log(`  ${decision.accepted ? "accept" : "reject"} ${decision.winnerScore.toFixed(2)}  ${item?.question ?? decision.itemId}${winner ? `  →  ${winner.text.slice(0, 80)}` : ""}`);
          }
        }
        return;
      }
      await runReporting(config, options.json, async () => {
        const target = await resolveTarget(config);
        if (target.kind === "server") return viaServer(target, { path: "/api/improve/runs" });
        // Report a held lock before loading a model for minutes (runOnce takes the lock for real).
        await (await openRunLocker({ config, logger: createLogger(config, process.stderr) }).acquire({ purpose: "nightly improvement (lock check)" })).release();
        return inProcess(config, (improvement) => improvement.runOnce());
      });
    });

  program
    .command("approve <run-id>")
    .description("Approve (or --reject) a nightly run waiting at the approval step (COUNCIL_IMPROVE_POLICY=approve)")
    .option("--reject", "reject the adapter instead")
    .option("--reason <text>", "why (kept in the run summary)")
    .option("--json", "print the run summary as JSON")
    .action(async (runId: string, options: { reject?: boolean; reason?: string; json?: boolean }) => {
      const config = loadConfig();
      const decision = options.reject ? "reject" : "approve";
      const body = { decision, ...(options.reason ? { reason: options.reason } : {}) };
      await runReporting(config, options.json, async () => {
        const target = await resolveTarget(config);
        return target.kind === "server"
          ? viaServer(target, { path: `/api/improve/runs/${encodeURIComponent(runId)}/approve`, body })
          : inProcess(config, (improvement) => improvement.approve({ runId, decision, actor: cliActor(), ...(options.reason ? { reason: options.reason } : {}) }));
      });
    });

  program
    .command("harvest")
    .description("Show the failures tonight's run would harvest (by success flag, 👎 and critic score, since the last run)")
    .option("--json", "print as JSON")
    .action(async (options: { json?: boolean }) => {
      const preview = await inProcess(loadConfig(), (improvement) => improvement.preview());
      if (options.json) console.log(JSON.stringify({ since: preview.since, until: preview.until, turns: preview.turns, items: preview.items, filters: preview.filters, dropped: preview.dropped }, null, 2));
      else {
        console.log(`${preview.items.length} failure(s) from ${preview.turns} failed turn(s) since ${new Date(preview.since).toISOString()}`);
        for (const item of preview.items) console.log(`  ${item.id}  ${item.category ?? "-"}  ${item.question}  (${item.traceIds.length} turn(s))${item.correction ? "  [with correction]" : ""}`);
        if (preview.dropped.length > 0) console.log(`${preview.dropped.length} dropped by filters:`);
        for (const item of preview.dropped) console.log(`  ${item.id}  ${item.filter}  ${item.question}${item.correction ? "  [with correction]" : ""}\n      why: ${item.reason}`);
      }
    });

  program
    .command("vote")
    .description("Show Agent-0's candidate rewrites for tonight's failures and the council's ballots and decisions")
    .option("--json", "print as JSON")
    .action(async (options: { json?: boolean }) => {
      const preview = await inProcess(loadConfig(), (improvement) => improvement.preview({ vote: true }));
      if (options.json) console.log(JSON.stringify({ candidates: preview.candidates, decisions: preview.decisions }, null, 2));
      else
        for (const decision of preview.decisions) {
          console.log(`${decision.accepted ? "ACCEPT" : "reject"} ${decision.winnerScore.toFixed(2)} ${decision.itemId}: ${decision.reason}`);
          for (const ballot of decision.ballots) console.log(`    ${ballot.voter} → ${ballot.candidateId}: ${ballot.score.toFixed(2)} (${ballot.reason})`);
        }
    });
}
