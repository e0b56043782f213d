import { join } from "node:path";
import { silentLogger, type CouncilMetrics, type Logger } from "../core/index.js";
import type { AdapterRegistry } from "./adapter-registry.js";
import { writeFileAtomic } from "./atomic-files.js";
import { FileReleaseStore, type ReleaseStore } from "./release-store.js";
import { postWebhook } from "./webhook.js";

export interface RollbackSummary {
  at: string;
  reason: string;
  /** The version taken out of service (the canary, or the current version on a manual rollback). */
  removed: string | null;
  /** What serves all traffic afterwards (null = base model). */
  restored: string | null;
  canaryWeightBefore: number;
  details: Record<string, unknown>;
  webhook: "sent" | "failed" | "not-configured";
}

export interface RollbackOptions {
  registry: AdapterRegistry;
  /** The release record to change (shared by replicas when it is Postgres). @default FileReleaseStore */
  releases?: ReleaseStore;
  reason: string;
  /** Roll back to this version instead of `previous` (manual rollback). */
  to?: string;
  /** Where rollback_summary.json goes (a run dir). @default loras/ */
  summaryDir?: string;
  webhookUrl?: string;
  metrics?: Pick<CouncilMetrics, "rollbacks" | "canaryWeight" | "adapterInfo">;
  logger?: Logger;
  now?: () => Date;
  /** Called right after the canary weight drops to 0 (in-process routers switch at once). */
  onWeightZero?: () => void;
  details?: Record<string, unknown>;
  /** Adapter info `base` label. @default "seedling" */
  base?: string;
}

/**
 * Takes the bad adapter out of service: first the canary weight goes to 0 (all traffic on stable), then, if
 * `current` itself is the bad one (or a target was named), `current` is switched to `previous` / `to`.
 * Then it writes rollback_summary.json and posts the webhook (a webhook failure is logged, never blocks).
 */
export async function rollbackDeployment({ registry, releases = new FileReleaseStore({ registry }), reason, to, summaryDir, webhookUrl, metrics, logger = silentLogger, now = () => new Date(), onWeightZero, details = {}, base = "seedling" }: RollbackOptions): Promise<RollbackSummary> {
  const loras = registry.paths.loras;
  const canary = await releases.canary();
  const canaryWeightBefore = canary?.status === "running" ? canary.weight : 0;
  let removed: string | null = null;
  if (canary?.status === "running") {
    await releases.setCanary({ ...canary, weight: 0, status: "rolled-back", updatedAt: now().toISOString(), reason });
    removed = canary.version;
  }
  metrics?.canaryWeight.set(0);
  onWeightZero?.();
  // A broken loras/current (dangling, outside versions/) must not stop the rollback that repairs it.
  const { version: current } = await releases.stable();
  let restored = current;
  const manual = canary?.status !== "running" || to !== undefined;
  if (manual || current === canary?.version) {
    const switched = await releases.rollback({ ...(to === undefined ? {} : { to }), reason });
    removed = switched.from;
    restored = switched.to;
    if (switched.from !== null) metrics?.adapterInfo.remove({ version: switched.from, base });
    if (switched.to !== null) metrics?.adapterInfo.set({ version: switched.to, base }, 1);
  }
  metrics?.rollbacks.inc({ reason: reasonLabel(reason) });
  logger.warn({ reason, removed, restored }, "rollback done: all traffic on the restored adapter");
  const summary: RollbackSummary = { at: now().toISOString(), reason, removed, restored, canaryWeightBefore, details, webhook: webhookUrl ? "sent" : "not-configured" };
  if (webhookUrl) {
    const failure = await postWebhook({
      url: webhookUrl,
      logger,
      text: `:rewind: Council rolled back adapter ${removed ?? "(none)"} → ${restored ?? "base model"}: ${reason}`,
    });
    if (failure) summary.webhook = "failed";
  }
  await writeFileAtomic({ path: join(summaryDir ?? loras, "rollback_summary.json"), data: JSON.stringify(summary, null, 2) + "\n" });
  return summary;
}

/** Bounded label values for council_rollbacks_total{reason}. */
export function reasonLabel(reason: string): string {
  const known = ["success_rate", "latency", "satisfaction", "cost", "analysis_errors", "deadline", "aborted", "manual", "stale"];
  const head = reason.split(/[:\s]/)[0] ?? "";
  return known.includes(head) ? head : "other";
}
