import type { Command } from "commander";
import { createLogger, createMetrics, loadConfig, type CouncilConfig, type Logger } from "../../core/index.js";
import { AdapterRegistry, rollbackDeployment, type AdapterFileValidator, type RollbackSummary } from "../../deploy/index.js";
import { openReleaseStore } from "../../council/index.js";
import { openEventLog, type EventSink } from "../../memory/index.js";
import { cliActor } from "./cli-actor.js";
import { cliAdapterValidator } from "./deploy.js";

/**
 * `council rollback [--to <version>|base]`: a running canary goes to weight 0 (all traffic on stable); otherwise
 * `current` goes back to `previous` (or to `--to`; `--to base` takes the adapter out: the base model serves). Writes loras/rollback_summary.json and posts the webhook.
 */
export async function rollbackCommand({
  config,
  to,
  reason = "manual: council rollback",
  logger = createLogger(config, process.stderr),
  validateAdapter = cliAdapterValidator(config),
  events,
  actor = cliActor(),
}: {
  config: CouncilConfig;
  to?: string;
  reason?: string;
  logger?: Logger;
  /** @default cliAdapterValidator(config) */
  validateAdapter?: AdapterFileValidator;
  /** The event log: the rollback is appended with `actor`. */
  events?: EventSink;
  /** @default cliActor() */
  actor?: string;
}): Promise<RollbackSummary> {
  const registry = await AdapterRegistry.create({ config, logger, validateAdapter });
  const releases = await openReleaseStore({ config, registry, logger });
  const summary = await rollbackDeployment({
    registry,
    releases,
    reason,
    logger,
    metrics: createMetrics({ defaultMetrics: false }),
    ...(to === undefined ? {} : { to }),
    ...(config.improve.webhookUrl === undefined ? {} : { webhookUrl: config.improve.webhookUrl }),
  }).finally(() => releases.dispose());
  await events?.append({ actor, type: "adapter-rolled-back", payload: { version: summary.removed, restored: summary.restored, reason: summary.reason, mode: "manual" } });
  return summary;
}

export function register(program: Command): void {
  program
    .command("rollback")
    .description("Stop a running canary, or switch loras/current back to loras/previous (or --to a version)")
    .option("--to <version>", "the version to switch to instead of previous; `base` for the base model (no adapter)")
    .option("--reason <text>", "why (goes into rollback_summary.json and the webhook)")
    .option("--json", "print the rollback summary as JSON")
    .action(async (options: { to?: string; reason?: string; json?: boolean }) => {
      const config = loadConfig();
      const events = await openEventLog({ config });
      const summary = await rollbackCommand({ config, ...(events ? { events } : {}), ...(options.to ? { to: options.to } : {}), ...(options.reason ? { reason: `manual: ${options.reason}` } : {}) });
      if (options.json) console.log(JSON.stringify(summary, null, 2));
      else console.log(`rolled back: ${summary.removed ?? "(none)"} → ${summary.restored ?? "(base model)"}; webhook ${summary.webhook}`);
    });
}
