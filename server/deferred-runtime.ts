import { CouncilError } from "../core/index.js";
import type { AdapterServing, Improvement } from "../council/index.js";
import type { CouncilRuntime, TurnRequest, TurnResult } from "../council/index.js";
import type { ImprovementControl } from "./plugins/improve-routes.js";

/**
 * A CouncilRuntime that is still loading: the server can listen (GET /health answers 503) while the
 * model loads; turns before then answer BACKEND_UNAVAILABLE. Disposing while loading disposes the
 * runtime once it arrives.
 */
export class DeferredRuntime implements CouncilRuntime {
  #runtime: CouncilRuntime | undefined;
  #failure: unknown;
  readonly #loading: Promise<CouncilRuntime | undefined>;

  constructor(loading: Promise<CouncilRuntime>) {
    this.#loading = loading.then(
      (runtime) => {
        this.#runtime = runtime;
        return runtime;
      },
      (error: unknown) => {
        this.#failure = error;
        return undefined;
      },
    );
  }

  /** Resolves when loading ends; rejects with the loading error. */
  async loaded(): Promise<CouncilRuntime> {
    const runtime = await this.#loading;
    if (runtime === undefined) throw this.#failure;
    return runtime;
  }

  ready(): boolean {
    return this.#runtime?.ready() ?? false;
  }

  turn(request: TurnRequest): Promise<TurnResult> {
    return this.#require().turn(request);
  }

  feedback(input: Parameters<CouncilRuntime["feedback"]>[0]) {
    return this.#require().feedback(input);
  }

  trace(traceId: string) {
    return this.#require().trace(traceId);
  }

  async dispose(): Promise<void> {
    const runtime = await this.#loading;
    await runtime?.dispose();
  }

  #require(): CouncilRuntime {
    if (this.#runtime !== undefined) return this.#runtime;
    if (this.#failure !== undefined) throw new CouncilError("BACKEND_UNAVAILABLE", "The council failed to load; see the server log.", { cause: this.#failure });
    throw new CouncilError("BACKEND_UNAVAILABLE", "The model is still loading; retry in a moment (GET /health answers 200 when ready).");
  }
}

/**
 * The admin API's view of a nightly loop that is still loading with the council: BACKEND_UNAVAILABLE until
 * it is there, and for good when the backend cannot hold LoRA adapters (no improvement service).
 */
export function deferredImprovement(loading: Promise<{ improvement: Improvement | null; serving: AdapterServing | null }>): ImprovementControl {
  let loaded: { improvement: Improvement | null; serving: AdapterServing | null } | undefined;
  loading.then(
    (value) => {
      loaded = value;
    },
    () => undefined, // the server reports the loading failure (startServer); here it only stays unavailable
  );
  const require = <T>(pick: (value: { improvement: Improvement | null; serving: AdapterServing | null }) => T | null, what: string): T => {
    if (loaded === undefined) throw new CouncilError("BACKEND_UNAVAILABLE", "The model is still loading; retry in a moment (GET /health answers 200 when ready).");
    const picked = pick(loaded);
    if (picked === null) throw new CouncilError("BACKEND_UNAVAILABLE", `This backend cannot serve LoRA adapters, so ${what} is off (use the llama backend).`);
    return picked;
  };
  return {
    runOnce: async () => require((value) => value.improvement, "the nightly loop").runOnce(),
    approve: async (options) => require((value) => value.improvement, "the nightly loop").approve(options),
    runs: async (limit) => require((value) => value.improvement, "the nightly loop").runs(limit),
    reloadAdapters: async () => require((value) => value.serving, "adapter serving").reload(),
  };
}
