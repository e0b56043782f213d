import { createHash } from "node:crypto";
import type { CanaryState } from "./canary-state.js";

/** Where one request goes. `version` null = the base model (no adapter). */
export interface AdapterSelection {
  slot: "canary" | "stable";
  version: string | null;
}

/**
 * A user's sticky bucket in [0, 100): the first 32 bits of sha256(key) scaled. The same user always lands in
 * the same bucket, so raising the weight only ever moves more users onto the canary, never back and forth.
 */
export function canaryBucket(key: string): number {
  const digest = createHash("sha256").update(key).digest();
  return (digest.readUInt32BE(0) / 0x1_0000_0000) * 100;
}

/**
 * Picks the adapter for a request: canary when the canary is running and the user's bucket is below its
 * weight, else stable. Plug `select` into the runtime's `selectAdapter` hook; feed `update` from the watcher.
 */
export class CanaryRouter {
  private state: CanaryState | null = null;
  private stable: string | null;

  constructor({ stable = null, state = null }: { stable?: string | null; state?: CanaryState | null } = {}) {
    this.stable = stable;
    this.state = state;
  }

  /** The registry's current version (serving as stable). */
  setStable(version: string | null): void {
    this.stable = version;
  }

  update(state: CanaryState | null): void {
    this.state = state;
  }

  weight(): number {
    return this.state?.status === "running" ? this.state.weight : 0;
  }

  /** @param key the user id, else the session id: what makes routing sticky */
  select(key: string): AdapterSelection {
    const state = this.state;
    if (state !== null && state.status === "running" && state.weight > 0 && canaryBucket(key) < state.weight) return { slot: "canary", version: state.version };
    return { slot: "stable", version: this.stable };
  }
}
