import type { Command } from "commander";
import { loadConfig } from "../../core/index.js";
import { collectDeployStatus, formatDeployStatus } from "../../deploy/index.js";

export function register(program: Command): void {
  program
    .command("status")
    .description("Current, previous and canary adapter versions, traffic weights, and the last improvement runs with outcome and reasons")
    .option("--json", "print as JSON")
    .option("--runs <n>", "how many recent runs to show", "5")
    .action(async (options: { json?: boolean; runs: string }) => {
      const status = await collectDeployStatus({ config: loadConfig(), runs: Math.max(0, Number.parseInt(options.runs, 10) || 0) });
      console.log(options.json ? JSON.stringify(status, null, 2) : formatDeployStatus(status));
    });
}
