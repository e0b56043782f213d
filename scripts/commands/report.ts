import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { CouncilError, dataPaths, loadConfig } from "../../core/index.js";
import { listRuns, readRunFolder, renderReport } from "../../graphs/improve/index.js";

export function register(program: Command): void {
  program
    .command("report")
    .description("The morning report of an improvement run (the latest by default): harvest, vote, verified memory, training, gate, canary, and what to look at")
    .argument("[runId]", "run id (a folder under <dataDir>/data/runs); default: the latest finished run")
    .option("--json", "print the report's facts as JSON")
    .action(async (runIdArgument: string | undefined, options: { json?: boolean }) => {
      const runsDir = dataPaths(loadConfig()).runs;
      const runId = runIdArgument ?? (await listRuns({ runsDir, limit: 1 }))[0]?.runId;
      if (runId === undefined) throw new CouncilError("RUN_NOT_FOUND", `No finished improvement run under ${runsDir}; run \`council nightly --once\` first.`);
      if (!/^[\w.-]+$/.test(runId) || !existsSync(join(runsDir, runId))) throw new CouncilError("RUN_NOT_FOUND", `No improvement run ${runId} under ${runsDir}; \`council status\` lists the recent runs.`);
      const { markdown, report } = renderReport(await readRunFolder(join(runsDir, runId)));
      console.log(options.json ? JSON.stringify(report, null, 2) : markdown);
    });
}
