import type { Command } from "commander";
import { CouncilError, loadConfig, silentLogger } from "../../core/index.js";
import { openEventLog, openVerifiedMemory, VERIFIED_STATUSES, type VerifiedEntry, type VerifiedMemory } from "../../memory/index.js";
import { createEmbeddings } from "../../models/index.js";
import { cliActor } from "./cli-actor.js";

/** Opens this data dir's verified memory (SQLite WAL: safe beside a running server, which sees changes on its next turn). */
async function withVerified<T>(work: (verified: VerifiedMemory) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const opened = await createEmbeddings({ config, logger: silentLogger });
  // Changes go to the event log too (actor: the OS user, passed per call).
  const events = await openEventLog({ config });
  try {
    const verified = await openVerifiedMemory({ config, embeddings: opened.embeddings, ...(events ? { events } : {}) });
    try {
      return await work(verified);
    } finally {
      await verified.dispose();
    }
  } finally {
    await opened.dispose();
  }
}

export function formatEntry(entry: VerifiedEntry): string {
  const when = new Date(entry.updatedAt).toISOString().replace(/\.\d+Z$/, "Z");
  return `${entry.id}  ${entry.status.padEnd(9)} ${entry.source.padEnd(10)} release ${entry.release}  vote ${entry.voteScore.toFixed(2)}  ${when}\n  Q: ${entry.question}\n  A: ${entry.answer}${entry.note ? `\n  note: ${entry.note}` : ""}`;
}

export function register(program: Command): void {
  const verified = program.command("verified").description("Verified memory: the answers the nightly council voted for, served above the reuse threshold");
  verified
    .command("list", { isDefault: true })
    .description("list verified entries, newest first")
    .option("--status <status>", `only this status (${VERIFIED_STATUSES.join(", ")})`)
    .option("--json", "print as JSON")
    .action(async (options: { status?: string; json?: boolean }) => {
      if (options.status !== undefined && !(VERIFIED_STATUSES as readonly string[]).includes(options.status)) {
        throw new CouncilError("CONFIG_INVALID", `--status must be one of ${VERIFIED_STATUSES.join(", ")}, got ${JSON.stringify(options.status)}.`);
      }
      const { all, counts } = await withVerified(async (memory) => ({ all: await memory.list(), counts: memory.counts() }));
      const entries = all.filter((entry) => options.status === undefined || entry.status === options.status);
      if (options.json) console.log(JSON.stringify(entries, null, 2));
      else {
        console.log(VERIFIED_STATUSES.map((status) => `${status} ${counts[status]}`).join(" · "));
        console.log(entries.length === 0 ? "no verified entries" : entries.map(formatEntry).join("\n\n"));
      }
    });
  verified
    .command("demote")
    .description("take an entry out of service now (as a 👎 on an answer it served does); a later night may verify it again")
    .argument("<id>", "entry id (v-…)")
    .option("--note <text>", "why", "demoted by an operator")
    .action(async (id: string, options: { note: string }) => {
      const entry = await withVerified((memory) => memory.demote({ id, note: options.note, actor: cliActor() }));
      if (entry === undefined) throw new CouncilError("NOT_FOUND", `No verified entry ${id}; see \`npx council verified list\`.`);
      console.log(formatEntry(entry));
    });
  verified
    .command("withdraw")
    .description("withdraw every entry a release brought (what a canary rollback does)")
    .requiredOption("--release <release>", "adapter version, or memory:<runId>")
    .option("--note <text>", "why", "withdrawn by an operator")
    .action(async (options: { release: string; note: string }) => {
      const changed = await withVerified((memory) => memory.setReleaseStatus({ release: options.release, to: "withdrawn", note: options.note, actor: cliActor() }));
      console.log(`withdrew ${changed} entr${changed === 1 ? "y" : "ies"} of release ${options.release}`);
    });
}
