import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { CouncilError, createLogger, dataPaths, loadConfig, type CouncilConfig } from "../../core/index.js";
import { openRunLocker } from "../../cron/index.js";
import { ImproveStore } from "../../graphs/improve/index.js";
import { auditChain, eraseUserTurns, EventLog, formatAudit, memoryPaths, VerifiedMemory, type AuditReport } from "../../memory/index.js";
import { HashEmbeddings } from "../../models/index.js";
import { cliActor } from "./cli-actor.js";
import { resolveRunTarget } from "./local-server.js";

/** An audit, plus what the run folder says about the dataset (the files the adapter was trained on). */
export type AuditResult = AuditReport & { dataset?: { manifestSha256: string; matchesLog: boolean; trainedIds: string[] } };

async function openLog(config: CouncilConfig): Promise<EventLog> {
  return EventLog.create({ dir: dataPaths(config).events, retentionDays: config.eventLog.retentionDays });
}

/**
 * `council audit <trace-id|version|run>`: the chain from the event log. For an adapter version or a run it
 * also reads the run's dataset folder (manifest.json, sft.messages.jsonl) and checks that the log's example
 * list is the one the adapter was trained on.
 */
export async function auditCommand({ config, id }: { config: CouncilConfig; id: string }): Promise<AuditResult> {
  const report = auditChain(await (await openLog(config)).events(), id);
  const runId = report.kind === "version" ? report.runId : report.kind === "run" ? report.id : null;
  if (runId === null) return report;
  const dir = join(dataPaths(config).runs, runId, "dataset");
  if (!existsSync(join(dir, "manifest.json"))) return report;
  const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as { sha256: string };
  const sft = join(dir, "sft.messages.jsonl");
  const trainedIds = existsSync(sft) ? (await readFile(sft, "utf8")).split("\n").filter((line) => line.trim() !== "").map((line) => (JSON.parse(line) as { id: string }).id) : [];
  const logged = report.kind === "trace" ? [] : report.examples.map((example) => example.id);
  const matchesLog = trainedIds.length === logged.length && [...trainedIds].sort().join("\n") === [...logged].sort().join("\n");
  return { ...report, dataset: { manifestSha256: manifest.sha256, matchesLog, trainedIds } };
}

export interface EraseUserResult {
  userId: string;
  events: number;
  turns: number;
  verifiedEntries: number;
  acceptedExamples: number;
}

/**
 * `council erase-user <id>`: removes a user's events from the log (segments rewritten with new checksums),
 * their turns from memory, verified entries made from those turns, and their accepted examples (so no future
 * dataset has them). Offline: refuses while a server runs on this data dir, and holds the nightly lock.
 */
export async function eraseUserCommand({ config, userId, actor = cliActor() }: { config: CouncilConfig; userId: string; actor?: string }): Promise<EraseUserResult> {
  const target = await resolveRunTarget({ config });
  if (target.kind === "server") throw new CouncilError("BUSY", "A Council server is running on this data dir; stop it first (erasure rewrites the memory files it holds open).");
  const lock = await openRunLocker({ config, logger: createLogger(config, process.stderr) }).acquire({ purpose: "erase user" });
  try {
    const log = await openLog(config);
    // Trace ids first: the log may not hold turns recorded before it was enabled.
    const traces = eraseUserTurns({ dir: memoryPaths(config).dir, userId });
    const report = await log.eraseUser({ userId, actor });
    let verifiedEntries = 0;
    if (existsSync(memoryPaths(config).verified)) {
      // Deleting rows needs no embeddings of the configured model: entries are found by trace id.
      const verified = await VerifiedMemory.create({ path: memoryPaths(config).verified, embeddings: new HashEmbeddings({ dimensions: 16 }) });
      try {
        verifiedEntries = (await verified.eraseTraces(traces)).length;
      } finally {
        await verified.dispose();
      }
    }
    const acceptedExamples = await new ImproveStore({ dir: join(dataPaths(config).root, "data", "improve") }).eraseUser(userId);
    return { userId, events: report.removed, turns: traces.length, verifiedEntries, acceptedExamples };
  } finally {
    await lock.release();
  }
}

export function register(program: Command): void {
  program
    .command("audit <id>")
    .description("Print the provenance chain from the event log: for an adapter version (or run id) every training example back to its turns, votes and people; for a trace id every event about that turn")
    .option("--json", "print as JSON")
    .action(async (id: string, options: { json?: boolean }) => {
      const result = await auditCommand({ config: loadConfig(), id });
      if (options.json) return console.log(JSON.stringify(result, null, 2));
      console.log(formatAudit(result));
      if (result.dataset) console.log(`dataset ${result.dataset.manifestSha256.slice(0, 12)} (run folder): ${result.dataset.trainedIds.length} trained example(s), ${result.dataset.matchesLog ? "the same as the log's" : "DIFFERENT from the log's list"}`);
    });

  program
    .command("erase-user <user-id>")
    .description("Erase a user: their events from the event log, their turns from memory, verified entries made from them, and their examples from future datasets (stop the server first)")
    .option("--json", "print as JSON")
    .action(async (userId: string, options: { json?: boolean }) => {
      const result = await eraseUserCommand({ config: loadConfig(), userId });
      if (options.json) return console.log(JSON.stringify(result, null, 2));
      console.log(`erased ${userId}: ${result.events} event(s), ${result.turns} turn(s), ${result.verifiedEntries} verified entr(ies), ${result.acceptedExamples} accepted example(s)`);
    });
}
