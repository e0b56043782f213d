import { CouncilError, silentLogger, type CouncilMetrics, type Logger } from "../core/index.js";
import type { AdapterHost, AdapterSlotInfo } from "../models/index.js";
import type { Probe } from "./adapter-registry.js";

/** Generates greedily with the adapter in `adapterSlot` (null = base model). Any backend fits. */
export type ProbeGenerate = (prompt: string, adapterSlot: string | null) => Promise<string>;

export interface ProbeReport {
  version: string;
  slot: string | null;
  probes: number;
  matched: number;
  mismatches: Array<{ prompt: string; expected: string; actual: string }>;
}

export interface ProveServingOptions {
  version: string;
  /** The slot the version was loaded into. */
  slot: string | null;
  /** Probes from the version's eval.json (prompts and eval-time greedy outputs). */
  probes: readonly Probe[];
  generate: ProbeGenerate;
  logger?: Logger;
  /** Counts failures in council_adapter_probe_failures_total. */
  metrics?: Pick<CouncilMetrics, "adapterProbeFailures">;
}

/**
 * Proves a slot serves `version`: replays the eval-time probe prompts and compares the outputs (trimmed,
 * exact). A mismatch — or no probes at all, which proves nothing — is a loud ADAPTER_STALE: logged at error
 * level, counted in council_adapter_probe_failures_total, and thrown.
 */
export async function proveServing({ version, slot, probes, generate, logger = silentLogger, metrics }: ProveServingOptions): Promise<ProbeReport> {
  const report: ProbeReport = { version, slot, probes: probes.length, matched: 0, mismatches: [] };
  for (const probe of probes) {
    const actual = await generate(probe.prompt, slot);
    if (actual.trim() === probe.output.trim()) report.matched += 1;
    else report.mismatches.push({ prompt: probe.prompt, expected: probe.output, actual });
  }
  if (probes.length === 0 || report.mismatches.length > 0) {
    const why = probes.length === 0 ? "its eval.json has no probes, so serving cannot be proven" : `${report.mismatches.length} of ${probes.length} probe outputs differ from the eval-time outputs`;
    const error = new CouncilError("ADAPTER_STALE", `Slot ${slot ?? "(base)"} is not provably serving adapter ${version}: ${why}.`, { details: { ...report } });
    logger.error({ code: error.code, version, slot, mismatches: report.mismatches.slice(0, 3) }, error.message);
    metrics?.adapterProbeFailures.inc();
    throw error;
  }
  logger.info({ version, slot, probes: probes.length }, "adapter proven serving");
  return report;
}

/**
 * Loads `version` into `slot` of an AdapterHost and proves it. On ADAPTER_STALE the slot is put back to
 * what it held before (or removed), so the server keeps serving the last good adapter; the error is rethrown.
 */
export async function loadAndProve({ host, slot, version, adapterPath, probes, generate, logger = silentLogger, metrics, scale }: {
  host: AdapterHost;
  slot: string;
  version: string;
  adapterPath: string;
  probes: readonly Probe[];
  generate: ProbeGenerate;
  logger?: Logger;
  metrics?: Pick<CouncilMetrics, "adapterProbeFailures">;
  scale?: number;
}): Promise<{ slot: AdapterSlotInfo; report: ProbeReport }> {
  const before = host.adapters().find((info) => info.slot === slot);
  const info = await host.setAdapter({ slot, path: adapterPath, version, ...(scale === undefined ? {} : { scale }) });
  try {
    const report = await proveServing({ version, slot, probes, generate, logger, ...(metrics ? { metrics } : {}) });
    return { slot: info, report };
  } catch (error) {
    if (before) await host.setAdapter({ slot, path: before.path, version: before.version, scale: before.scale });
    else await host.removeAdapter(slot);
    throw error;
  }
}
