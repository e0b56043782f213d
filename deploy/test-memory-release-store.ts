import { CouncilError } from "../core/index.js";
import type { AdapterRegistry, HistoryEntry } from "./adapter-registry.js";
import type { CanaryState } from "./canary-state.js";
import { BASE_MODEL, previousAfterRollback, type ReleaseStore, type StableRead, type StableSwitch } from "./release-store.js";

/**
 * Test support (not exported from the index): a release record in memory that several watchers can share, as
 * replicas share Postgres. Held to the same contract suite as the real stores (release-store.test.ts).
 */
export class MemoryReleaseStore implements ReleaseStore {
  readonly name = "memory";
  readonly shared = true;
  private stableVersion: string | null = null;
  private previousVersion: string | null = null;
  private live: CanaryState | null = null;
  private readonly entries: HistoryEntry[] = [];
  private readonly registry: AdapterRegistry;

  constructor({ registry }: { registry: AdapterRegistry }) {
    this.registry = registry;
  }

  async stable(): Promise<StableRead> {
    return { version: this.stableVersion, problem: null };
  }

  async previous(): Promise<string | null> {
    return this.previousVersion;
  }

  async canary(): Promise<CanaryState | null> {
    return this.live === null ? null : { ...this.live };
  }

  async setCanary(state: CanaryState): Promise<void> {
    this.live = { ...state };
  }

  async activate(version: string, { reason, action = "activate" }: { reason: string; action?: "activate" | "promote" }): Promise<StableSwitch> {
    await this.registry.verify(version);
    const from = this.stableVersion;
    if (from === version) return { from, to: version };
    if (from !== null) this.previousVersion = from;
    this.stableVersion = version;
    this.entries.push({ at: new Date().toISOString(), action, from, to: version, reason });
    return { from, to: version };
  }

  async rollback({ to, reason }: { to?: string; reason: string }): Promise<StableSwitch> {
    if (to === BASE_MODEL) {
      const from = this.stableVersion;
      if (from === null) throw new CouncilError("ADAPTER_NOT_FOUND", "No adapter is stable: the base model already serves.");
      [this.stableVersion, this.previousVersion] = [null, null];
      this.entries.push({ at: new Date().toISOString(), action: "rollback", from, to: BASE_MODEL, reason });
      return { from, to: null };
    }
    const target = to ?? this.previousVersion;
    if (target === null) throw new CouncilError("ADAPTER_NOT_FOUND", "There is no previous adapter version to roll back to.");
    await this.registry.verify(target);
    const from = this.stableVersion;
    this.previousVersion = previousAfterRollback({ history: this.entries, target, removed: from });
    this.stableVersion = target;
    this.entries.push({ at: new Date().toISOString(), action: "rollback", from, to: target, reason });
    return { from, to: target };
  }

  async history(): Promise<HistoryEntry[]> {
    return [...this.entries];
  }

  async dispose(): Promise<void> {}
}
