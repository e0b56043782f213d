import { isCouncilError, silentLogger, type CouncilMetrics, type Logger } from "../core/index.js";
import { AdapterWatcher, CanaryRouter, FileReleaseStore, loadAndProve, type AdapterRegistry, type CanaryState, type ProbeGenerate, type ReleaseStore } from "../deploy/index.js";
import type { AdapterHost } from "../models/index.js";
import { readAdapterScope, scopeMatcher } from "../training/index.js";
import type { SelectAdapter } from "./create-council.js";

export interface AdapterServingOptions {
  registry: AdapterRegistry;
  /** The stable/canary record to follow; Postgres makes every replica route by the same one. @default loras/ (FileReleaseStore) */
  releases?: ReleaseStore;
  host: AdapterHost;
  /** Greedy generation on a slot, exactly as the gate produced the probes' eval-time outputs. */
  generate: ProbeGenerate;
  metrics: CouncilMetrics;
  logger?: Logger;
  /** `council_adapter_info` base label. */
  base: string;
  /** @default 500 */
  pollIntervalMs?: number;
}

export interface AdapterServing {
  /** Plug into createCouncil's `selectAdapter`: sticky canary routing, else stable. */
  selectAdapter: SelectAdapter;
  router: CanaryRouter;
  /** Re-reads loras/current and loras/canary.json now (admin endpoint). */
  reload(): Promise<{ version: string | null; changed: boolean }>;
  /** Applies a canary state from this process (the in-process canary controller), before the file is written. */
  applyCanary(state: CanaryState): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * Closes the loop on the serving side: reads `loras/current` at start and on every switch (watcher), loads
 * that version into the `stable` slot and proves it serves it with the version's probes (ADAPTER_STALE keeps
 * the last good adapter), loads a running canary into the `canary` slot, and routes each user stickily.
 */
export async function startAdapterServing({ registry, releases = new FileReleaseStore({ registry }), host, generate, metrics, logger = silentLogger, base, pollIntervalMs = 500 }: AdapterServingOptions): Promise<AdapterServing> {
  const router = new CanaryRouter();
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    const next = chain.then(task, task);
    chain = next.catch(() => undefined);
    return next;
  };
  /** Each loaded slot's scope check (training/adapter-scope.ts): outside it the base model answers. */
  const scopes = new Map<string, (question: string) => boolean>();
  let stableVersion: string | null = null;
  let canaryVersion: string | null = null;
  // council_adapter_current_invalid is 1 while loras/current is a broken link or names an adapter that fails
  // its content-hash check (the server then serves the last good adapter, or the base model).
  const invalid = { link: false, content: false };
  const setInvalid = (part: keyof typeof invalid, value: boolean) => {
    invalid[part] = value;
    metrics.adapterCurrentInvalid.set(invalid.link || invalid.content ? 1 : 0);
  };

  const loadStable = (version: string | null) =>
    serial(async () => {
      if (version === stableVersion) return;
      if (version === null) {
        await host.removeAdapter("stable");
        scopes.delete("stable");
      } else {
        await releases.materialise?.(version);
        const record = await registry.verify(version).catch((error: unknown) => {
          if (isCouncilError(error, "ADAPTER_INVALID")) setInvalid("content", true);
          throw error;
        });
        const { probes } = await registry.readEval(version);
        const inScope = scopeMatcher(readAdapterScope(record.adapterPath));
        await loadAndProve({ host, slot: "stable", version, adapterPath: record.adapterPath, probes, generate, logger, metrics });
        scopes.set("stable", inScope);
      }
      if (stableVersion !== null) metrics.adapterInfo.remove({ version: stableVersion, base });
      stableVersion = version;
      setInvalid("content", false);
      metrics.adapterInfo.set({ version: version ?? "base", base }, 1);
      router.setStable(version);
      logger.info({ version }, "adapter-swapped: stable slot serves it");
    });

  const applyCanary = (state: CanaryState | null) =>
    serial(async () => {
      const running = state !== null && state.status === "running" ? state : null;
      if (running && running.version !== canaryVersion) {
        await releases.materialise?.(running.version);
        const record = await registry.verify(running.version);
        const inScope = scopeMatcher(readAdapterScope(record.adapterPath));
        await host.setAdapter({ slot: "canary", path: record.adapterPath, version: running.version });
        scopes.set("canary", inScope);
        canaryVersion = running.version;
      }
      router.update(running);
      metrics.canaryWeight.set(running?.weight ?? 0);
      if (!running && canaryVersion !== null) {
        canaryVersion = null;
        await host.removeAdapter("canary");
        scopes.delete("canary");
      }
    });

  const { version: current, problem } = await releases.stable();
  if (problem) {
    setInvalid("link", true);
    logger.error({ err: problem }, "loras/current is broken; serving the base model until `council rollback --to <version>` or `council deploy <version> --now` repairs it");
  }
  try {
    await loadStable(current);
  } catch (error) {
    logger.error({ err: error, version: current }, "cannot serve loras/current; serving the base model");
  }
  await applyCanary(await releases.canary().catch(() => null));

  const watcher = await AdapterWatcher.create({ registry, releases, logger, pollIntervalMs });
  watcher.on("adapter-swapped", ({ version }) => {
    loadStable(version).catch((error: unknown) => logger.error({ err: error, version }, "adapter swap not served; keeping the last good adapter"));
  });
  watcher.on("canary-changed", (state) => {
    applyCanary(state).catch((error: unknown) => logger.error({ err: error }, "canary change not applied"));
  });
  watcher.on("current-invalid", (error) => setInvalid("link", error !== null));
  // loras/current may have changed (been repaired, or broken) between the read above and the watcher's first read.
  setInvalid("link", watcher.currentProblem() !== null);
  if (watcher.current() !== current) {
    loadStable(watcher.current()).catch((error: unknown) => logger.error({ err: error, version: watcher.current() }, "adapter swap not served; keeping the last good adapter"));
  }
  watcher.on("watch-failed", (error) => logger.error({ err: error }, "adapter watch failed; keeping the last good state"));

  return {
    router,
    selectAdapter: ({ userId, sessionId, question }) => {
      const selection = router.select(userId ?? sessionId);
      if (selection.version === null) return null;
      if (!(scopes.get(selection.slot)?.(question) ?? true)) {
        metrics.adapterScope.inc({ decision: "outside" });
        return { slot: selection.slot, version: selection.version, outsideScope: true };
      }
      metrics.adapterScope.inc({ decision: "inside" });
      return { slot: selection.slot, version: selection.version };
    },
    reload: () => watcher.reload(),
    applyCanary: (state) => applyCanary(state),
    async dispose() {
      await watcher.dispose();
      await chain;
    },
  };
}
