import { existsSync } from "node:fs";
import type { Command } from "commander";
import { CouncilError, createLogger, createMetrics, loadConfig, modelPath, type CouncilConfig, type Logger } from "../../core/index.js";
import { openRunLocker } from "../../cron/index.js";
import { openReleaseStore } from "../../council/index.js";
import { AdapterRegistry, CanaryController, checkLoraGgufHeader, PrometheusSource, type AdapterFileValidator, type AnalysisSource, type CanaryOutcome, type ReleaseStore } from "../../deploy/index.js";
import { validateAdapterForBase } from "../../models/gguf/index.js";
import { openEventLog, type EventSink } from "../../memory/index.js";
import { cliActor } from "./cli-actor.js";

/**
 * The CLI's adapter check: the registry's LoRA header check, then — when the configured base model is a local
 * file — that every adapter tensor fits the base (ADAPTER_MISMATCH otherwise).
 */
export function cliAdapterValidator(config: CouncilConfig): AdapterFileValidator {
  const base = modelPath(config);
  return async (path) => {
    await checkLoraGgufHeader(path);
    if (existsSync(base)) await validateAdapterForBase({ adapter: path, base });
  };
}

export interface DeployCommandOptions {
  config: CouncilConfig;
  version: string;
  /** Switch loras/current at once instead of running a canary. */
  now?: boolean;
  /** @default PrometheusSource on config.improve.prometheusUrl */
  source?: AnalysisSource;
  signal?: AbortSignal;
  logger?: Logger;
  /** @default cliAdapterValidator(config) */
  validateAdapter?: AdapterFileValidator;
  /** The event log: the switch (or the canary's outcome) is appended with `actor`. */
  events?: EventSink;
  /** @default cliActor() */
  actor?: string;
}

export type DeployResult = { mode: "now"; from: string | null; to: string } | { mode: "canary"; outcome: CanaryOutcome };

/**
 * `council deploy <version>`: validates the version, then either switches `current` at once (`--now`) or runs
 * the canary to its end under the nightly run lock. A canary from the CLI reads traffic from Prometheus:
 * the chat metrics live in the server process, so this process's own registry would see none.
 */
export async function deployCommand({ config, version, now = false, source, signal, logger = createLogger(config, process.stderr), validateAdapter = cliAdapterValidator(config), events, actor = cliActor() }: DeployCommandOptions): Promise<DeployResult> {
  const registry = await AdapterRegistry.create({ config, logger, validateAdapter });
  await registry.get(version);
  const releases = await openReleaseStore({ config, registry, logger });
  try {
    return await deployWith({ config, version, now, source, signal, logger, events, actor, registry, releases });
  } finally {
    await releases.dispose();
  }
}

async function deployWith({ config, version, now, source, signal, logger, events, actor, registry, releases }: Omit<DeployCommandOptions, "validateAdapter"> & { now: boolean; logger: Logger; actor: string; registry: AdapterRegistry; releases: ReleaseStore }): Promise<DeployResult> {
  if (now) {
    const switched = await releases.activate(version, { reason: "council deploy --now" });
    await events?.append({ actor, type: "adapter-promoted", payload: { version, from: switched.from, mode: "now" } });
    return { mode: "now", from: switched.from, to: version };
  }
  const analysis = source ?? (config.improve.prometheusUrl ? new PrometheusSource({ url: config.improve.prometheusUrl }) : undefined);
  if (analysis === undefined) {
    throw new CouncilError(
      "CONFIG_INVALID",
      "A canary started from the CLI needs COUNCIL_PROMETHEUS_URL (config key \"improve.prometheusUrl\"): the traffic metrics live in the server process. Set it, or use --now, or let the nightly run deploy.",
      { details: { key: "improve.prometheusUrl" } },
    );
  }
  const lock = await openRunLocker({ config, logger }).acquire({ purpose: `deploy ${version}` });
  try {
    const controller = new CanaryController({ registry, releases, source: analysis, settings: config.improve, metrics: createMetrics({ defaultMetrics: false }), logger });
    await events?.append({ actor, type: "adapter-deployed", payload: { version, mode: "canary" } });
    const outcome = await controller.run({ version, ...(signal ? { signal } : {}) });
    await events?.append({ actor, type: outcome.status === "promoted" ? "adapter-promoted" : "adapter-rolled-back", payload: { version, mode: "canary", ...(outcome.status === "promoted" ? {} : { reason: outcome.reason }) } });
    return { mode: "canary", outcome };
  } finally {
    await lock.release();
  }
}

export function register(program: Command): void {
  program
    .command("deploy <version>")
    .description("Deploy an adapter version: a canary over COUNCIL_CANARY_STEPS analysed in Prometheus, or --now to switch loras/current at once")
    .option("--now", "switch at once, without a canary")
    .option("--json", "print the result as JSON")
    .action(async (version: string, options: { now?: boolean; json?: boolean }) => {
      const abort = new AbortController();
      const onSignal = () => abort.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        const config = loadConfig();
        const events = await openEventLog({ config });
        const result = await deployCommand({ config, version, now: options.now === true, signal: abort.signal, ...(events ? { events } : {}) });
        if (options.json) console.log(JSON.stringify(result, null, 2));
        else if (result.mode === "now") console.log(`current: ${result.from ?? "(base model)"} → ${result.to}`);
        else if (result.outcome.status === "promoted") console.log(`canary ${version} promoted: loras/current → ${version}`);
        else console.log(`canary ${version} rolled back: ${result.outcome.reason}`);
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}
