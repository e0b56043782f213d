import type { Command } from "commander";
import { createLogger, dataPaths, loadConfig } from "../../core/index.js";
import { openReleaseStore, readRunProgress } from "../../council/index.js";
import { openRunRecords } from "../../cron/index.js";
import { AdapterRegistry, collectDeployStatus, formatDeployStatus } from "../../deploy/index.js";
import { formatRunningNight } from "./run-progress-view.js";

export function register(program: Command): void {
  program
    .command("status")
    .description("Current, previous and canary adapter versions, traffic weights, and the last improvement runs with outcome and reasons")
    .option("--json", "print as JSON")
    .option("--runs <n>", "how many recent runs to show", "5")
    .action(async (options: { json?: boolean; runs: string }) => {
      const config = loadConfig();
      const logger = createLogger(config, process.stderr);
      const releases = await openReleaseStore({ config, registry: await AdapterRegistry.create({ config }) });
      // The runs come from the run records: with COUNCIL_STORE=postgres, the nights every replica ran.
      const runRecords = openRunRecords({ config, logger });
      const status = await collectDeployStatus({ config, releases, runRecords, runs: Math.max(0, Number.parseInt(options.runs, 10) || 0) }).finally(() => Promise.all([releases.dispose(), runRecords.dispose()]));
      // A night in progress (in the server or a CLI process of this data dir), from <runs>/progress.json.
      const running = readRunProgress(dataPaths(config).runs) ?? null;
      if (options.json) console.log(JSON.stringify({ ...status, running }, null, 2));
      else console.log(`${formatDeployStatus(status)}\n${running ? formatRunningNight(running, Date.now()) : "no night running in this data dir"}`);
    });
}
