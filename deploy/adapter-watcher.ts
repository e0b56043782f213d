import { EventEmitter } from "node:events";
import { watch, type FSWatcher } from "node:fs";
import { silentLogger, type CouncilError, type Logger } from "../core/index.js";
import type { AdapterRegistry } from "./adapter-registry.js";
import type { CanaryState } from "./canary-state.js";
import { FileReleaseStore, type ReleaseStore } from "./release-store.js";

/** Payload of `adapter-swapped`: `loras/current` now resolves to `version`. */
export interface AdapterSwappedEvent {
  version: string | null;
  previous: string | null;
  adapterPath: string | null;
}

export interface AdapterWatcherEvents {
  "adapter-swapped": [AdapterSwappedEvent];
  "canary-changed": [CanaryState | null];
  /**
   * `loras/current` became broken (dangling, outside loras/versions, not a link), or a different break was
   * seen: the error. `null` when it resolves again. Emitted on changes only; the last good version is kept.
   */
  "current-invalid": [CouncilError | null];
  /** A check failed (unsafe link, corrupt canary.json); the last good state is kept. */
  "watch-failed": [Error];
}

export interface AdapterWatcherOptions {
  registry: AdapterRegistry;
  /** Where the release record lives. @default FileReleaseStore (loras/ links and canary.json) */
  releases?: ReleaseStore;
  /** Polling fallback for file systems where fs.watch misses events (NFS, some containers). @default 500 */
  pollIntervalMs?: number;
  /** Also use fs.watch on loras/ (instant; file store only) or the store's push (`subscribe`, e.g. LISTEN). @default true */
  useFsWatch?: boolean;
  logger?: Logger;
}

/**
 * Notices switches of the stable version and changes of the canary in the release store — `loras/current` and
 * `loras/canary.json` by default (fs.watch on loras/), or a shared store such as Postgres (its LISTEN push) — with
 * a polling fallback that bounds the delay, and `reload()` for the admin endpoint; emits `adapter-swapped` / `canary-changed`.
 * Checks are serialised, so each switch is emitted once. A bad link never replaces the last good version.
 */
export class AdapterWatcher extends EventEmitter<AdapterWatcherEvents> {
  private readonly registry: AdapterRegistry;
  private readonly releases: ReleaseStore;
  private readonly logger: Logger;
  private fsWatcher: FSWatcher | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private version: string | null = null;
  private problem: CouncilError | null = null;
  private canaryStamp: string | null = null;
  private disposed = false;

  private constructor({ registry, releases, logger }: { registry: AdapterRegistry; releases: ReleaseStore; logger: Logger }) {
    super();
    this.registry = registry;
    this.releases = releases;
    this.logger = logger;
  }

  /** Starts watching; the initial state is read synchronously with creation (no event for it). */
  static async create({ registry, releases = new FileReleaseStore({ registry }), pollIntervalMs = 500, useFsWatch = true, logger = silentLogger }: AdapterWatcherOptions): Promise<AdapterWatcher> {
    const watcher = new AdapterWatcher({ registry, releases, logger });
    const { version, problem } = await releases.stable();
    watcher.version = version;
    watcher.problem = problem;
    const canary = await releases.canary().catch((error: unknown) => {
      logger.error({ err: error, store: releases.name }, "cannot read the canary at start; treating it as no canary until it changes");
      return null;
    });
    watcher.canaryStamp = canary === null ? null : JSON.stringify(canary);
    if (useFsWatch && releases.subscribe !== undefined) {
      try {
        watcher.unsubscribe = await releases.subscribe(() => void watcher.check());
      } catch (error) {
        logger.warn({ err: error, store: releases.name }, "release store push unavailable; polling only");
      }
    } else if (useFsWatch && !releases.shared) {
      try {
        watcher.fsWatcher = watch(registry.paths.loras, { persistent: false }, () => void watcher.check());
        watcher.fsWatcher.on("error", (error) => logger.warn({ err: error }, "fs.watch on loras/ failed; polling only"));
      } catch (error) {
        logger.warn({ err: error }, "fs.watch unavailable; polling only");
      }
    }
    watcher.timer = setInterval(() => void watcher.check(), pollIntervalMs);
    watcher.timer.unref();
    return watcher;
  }

  /** The version `current` resolved to at the last check. */
  current(): string | null {
    return this.version;
  }

  /** Why `loras/current` did not resolve at the last check (null when it did). */
  currentProblem(): CouncilError | null {
    return this.problem;
  }

  /** Re-reads the links now (admin endpoint); resolves after any resulting events were emitted. */
  async reload(): Promise<{ version: string | null; changed: boolean }> {
    const before = this.version;
    await this.check();
    return { version: this.version, changed: before !== this.version };
  }

  private check(): Promise<void> {
    const next = this.chain.then(() => this.checkNow());
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async checkNow(): Promise<void> {
    if (this.disposed) return;
    try {
      const { version, problem } = await this.releases.stable();
      if (problem !== null || this.problem !== null) {
        const changed = problem?.message !== this.problem?.message;
        this.problem = problem;
        if (changed) {
          if (problem) this.logger.error({ err: problem }, "loras/current is broken; still serving the last good adapter");
          else this.logger.info({ version }, "loras/current resolves again");
          this.emit("current-invalid", problem);
          if (problem) this.emit("watch-failed", problem);
        }
      }
      if (problem === null && version !== this.version) {
        if (version !== null) await this.releases.materialise?.(version);
        const previous = this.version;
        this.version = version;
        const adapterPath = version === null ? null : (await this.registry.get(version)).adapterPath;
        this.logger.info({ version, previous }, "adapter-swapped");
        this.emit("adapter-swapped", { version, previous, adapterPath });
      }
    } catch (error) {
      this.logger.error({ err: error }, "cannot resolve loras/current; still serving the last good adapter");
      this.emit("watch-failed", error as Error);
    }
    try {
      const canary = await this.releases.canary();
      const stamp = canary === null ? null : JSON.stringify(canary);
      if (stamp !== this.canaryStamp) {
        this.canaryStamp = stamp;
        this.emit("canary-changed", canary);
      }
    } catch (error) {
      this.logger.error({ err: error }, "cannot read loras/canary.json; keeping the last canary state");
      this.emit("watch-failed", error as Error);
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.fsWatcher?.close();
    if (this.timer) clearInterval(this.timer);
    await this.unsubscribe?.();
    await this.chain;
    this.removeAllListeners();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
