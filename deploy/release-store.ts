import type { CouncilError } from "../core/index.js";
import { BASE_MODEL_NAME, type AdapterRegistry, type HistoryEntry } from "./adapter-registry.js";
import { readCanaryState, writeCanaryState, type CanaryState } from "./canary-state.js";

/** The stable version, or why it cannot be read (file store: a broken `loras/current` link). */
export interface StableRead {
  version: string | null;
  problem: CouncilError | null;
}

/** `rollback({ to: BASE_MODEL })`: no adapter at all — the base model serves (history names it `base`). */
export const BASE_MODEL = BASE_MODEL_NAME;

export interface StableSwitch {
  from: string | null;
  /** null: rolled back to the base model (no adapter). */
  to: string | null;
}

/**
 * The adapter release record: which version is stable, which is canary at what share, and every promotion and
 * rollback. The canary controller, `council rollback` and every serving replica go through it, so with a shared
 * store (Postgres) all replicas route by the same record. Adapter *files* stay in the registry (`loras/versions/`
 * or a llama-server that preloaded them); the store only says which version plays which part, and the Postgres store can also carry the version folders
 * (`materialise`).
 */
export interface ReleaseStore {
  /** `file` (loras/ under the data dir) or `postgres`. */
  readonly name: string;
  /** True when replicas share it: then fs.watch on loras/ says nothing and the store is polled (or notifies). */
  readonly shared: boolean;
  stable(): Promise<StableRead>;
  /** What a rollback without a target restores. */
  previous(): Promise<string | null>;
  canary(): Promise<CanaryState | null>;
  /** Writes the live canary (each controller step, promotion, rollback). */
  setCanary(state: CanaryState): Promise<void>;
  /** Makes `version` stable; the old stable becomes `previous`. Verifies the version first. */
  activate(version: string, options: { reason: string; action?: "activate" | "promote" }): Promise<StableSwitch>;
  /**
   * Makes `previous` (or `to`) stable. Afterwards `previous` is what the restored version had replaced, per history,
   * so a second rollback never re-deploys the version just removed. ADAPTER_NOT_FOUND when there is no previous version.
   * `to: BASE_MODEL` takes the adapter out altogether (stable and previous become none; ADAPTER_NOT_FOUND when no
   * adapter is stable): what an operator needs after the first promotion, when there is no previous version.
   */
  rollback(options: { to?: string; reason: string }): Promise<StableSwitch>;
  history(): Promise<HistoryEntry[]>;
  /**
   * Makes sure this replica's `loras/versions/<version>/` exists before it serves `version` (Postgres with shared
   * files: fetched and hash-checked). Absent where there is nothing to fetch from (the file store).
   */
  materialise?(version: string): Promise<void>;
  /** Calls `listener` soon after another writer changed the record (push where the store has it); returns unsubscribe. */
  subscribe?(listener: () => void): Promise<() => Promise<void>>;
  dispose(): Promise<void>;
}

/**
 * The one-host release store: `loras/current` and `loras/previous` (symlinks), `loras/history.jsonl` and
 * `loras/canary.json`, all through the {@link AdapterRegistry}. Shared by processes on one data dir only.
 */
export class FileReleaseStore implements ReleaseStore {
  readonly name = "file";
  readonly shared = false;
  private readonly registry: AdapterRegistry;

  constructor({ registry }: { registry: AdapterRegistry }) {
    this.registry = registry;
  }

  stable(): Promise<StableRead> {
    return this.registry.checkCurrent();
  }

  previous(): Promise<string | null> {
    return this.registry.previous();
  }

  canary(): Promise<CanaryState | null> {
    return readCanaryState(this.registry.paths.loras);
  }

  setCanary(state: CanaryState): Promise<void> {
    return writeCanaryState(this.registry.paths.loras, state);
  }

  activate(version: string, options: { reason: string; action?: "activate" | "promote" }): Promise<StableSwitch> {
    return this.registry.activate(version, options);
  }

  rollback(options: { to?: string; reason: string }): Promise<StableSwitch> {
    return this.registry.rollback(options);
  }

  history(): Promise<HistoryEntry[]> {
    return this.registry.history();
  }

  async dispose(): Promise<void> {}
}

/**
 * The history entry a rollback to `target` leaves as `previous`: what `target` had replaced, when that is neither
 * the version being removed nor `target` itself (shared by both stores' rollback).
 */
export function previousAfterRollback({ history, target, removed }: { history: readonly HistoryEntry[]; target: string; removed: string | null }): string | null {
  const entry = [...history].reverse().find((item) => item.to === target && item.action !== "rollback" && item.from !== null && item.from !== removed && item.from !== target);
  return entry?.from ?? null;
}
