import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { createLogger, CouncilError, dataPaths, loadConfig } from "../../core/index.js";
import { openRunRecords, runIdSchema, type RunRecords } from "../../cron/index.js";
import { readRunFolder, renderReport } from "../../graphs/improve/index.js";

export function register(program: Command): void {
  program
    .command("report")
    .description("The morning report of an improvement run (the latest by default): harvest, vote, verified memory, training, gate, canary, and what to look at")
    .argument("[runId]", "run id (`council status` lists them); default: the latest finished run")
    .option("--json", "print the report's facts as JSON")
    .action(async (runIdArgument: string | undefined, options: { json?: boolean }) => {
      const config = loadConfig();
      // With COUNCIL_STORE=postgres the records are shared: a night another replica ran is listed and reported here.
      const records = openRunRecords({ config, logger: createLogger(config, process.stderr) });
      try {
        console.log(await morningReport({ records, runsDir: dataPaths(config).runs, runId: runIdArgument, json: options.json === true }));
      } finally {
        await records.dispose();
      }
    });
}

/**
 * The report of `runId` (default: the latest run that ended). A run folder in this data dir is rendered afresh
 * (it may have gained a canary record since); a run another replica ran is printed from its record.
 */
async function morningReport({ records, runsDir, runId: given, json }: { records: RunRecords; runsDir: string; runId: string | undefined; json: boolean }): Promise<string> {
  const runId = given ?? (await records.list({ limit: 1, ended: true }))[0]?.runId;
  if (runId === undefined) throw new CouncilError("RUN_NOT_FOUND", `No finished improvement run under ${records.where}; run \`council nightly --once\` first.`);
  const notFound = () => new CouncilError("RUN_NOT_FOUND", `No improvement run ${runId} under ${records.where}; \`council status\` lists the recent runs.`);
  if (!runIdSchema.safeParse(runId).success) throw notFound();
  const runDir = join(runsDir, runId);
  if (existsSync(runDir)) {
    const { markdown, report } = renderReport(await readRunFolder(runDir));
    return json ? JSON.stringify(report, null, 2) : markdown;
  }
  const record = await records.get(runId);
  if (record === null) throw notFound();
  if (record.report === null) throw new CouncilError("RUN_NOT_FOUND", `Run ${runId} has no morning report yet (status ${record.status}${record.stage ? `, at ${record.stage}` : ""}); its run folder is on the replica that ran it.`);
  return json ? JSON.stringify(record.report.facts, null, 2) : record.report.markdown;
}
