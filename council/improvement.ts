import { join } from "node:path";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { dataPaths, isCouncilError, type CouncilConfig, type CouncilMetrics, type Logger } from "../core/index.js";
import { openRunLocker, openRunRecords, type RunLocker, type RunRecords } from "../cron/index.js";
import { sqliteCheckpointer } from "./checkpointer.js";
import { RunProgressWriter } from "./run-progress.js";
import { createImproveGraph, harvestFailures, ImproveStore, ReviewQueue, reviewQueuePath, listRuns, resolveApproval, runNightly, type Candidate, type HarvestResult, type ImprovePorts, type RunSummary, type VoteDecision } from "../graphs/improve/index.js";

export interface ImprovementOptions {
  config: CouncilConfig;
  ports: ImprovePorts;
  metrics: CouncilMetrics;
  logger: Logger;
  now?: () => number;
  /** The nightly run lock. @default openRunLocker(config): the file lock, or Postgres's advisory lock when COUNCIL_STORE=postgres */
  runLocker?: RunLocker;
  /** The nights' records (start, stages, end, summary, report). @default openRunRecords(config): the run folders, or Postgres when COUNCIL_STORE=postgres; createCouncilRuntime passes (and disposes) them */
  runRecords?: RunRecords;
  /** Where the nightly graph checkpoints. @default SQLite at `<dataDir>/data/checkpoints/improve.sqlite` (createCouncilRuntime passes openCheckpointer's choice) */
  checkpointer?: BaseCheckpointSaver;
}

/**
 * The nightly loop as a service: one run at a time under the run lock (a file with pid, host, start and TTL, or a Postgres advisory lock),
 * state and checkpoints under `<dataDir>/data/`, so a run killed anywhere resumes on the next start.
 */
export class Improvement {
  readonly #options: ImprovementOptions;
  readonly #store: ImproveStore;
  readonly #checkpointer: BaseCheckpointSaver;
  readonly #runsDir: string;
  #running: Promise<RunSummary> | null = null;
  readonly #progress: RunProgressWriter;
  readonly #runLocker: RunLocker;
  readonly #records: RunRecords;

  constructor(options: ImprovementOptions) {
    this.#options = options;
    const paths = dataPaths(options.config);
    this.#store = new ImproveStore({ dir: join(paths.root, "data", "improve") });
    this.#checkpointer = options.checkpointer ?? sqliteCheckpointer(options.config).saver;
    this.#runsDir = paths.runs;
    this.#runLocker = options.runLocker ?? openRunLocker({ config: options.config, logger: options.logger });
    this.#records = options.runRecords ?? openRunRecords({ config: options.config, logger: options.logger });
    this.#progress = new RunProgressWriter({ runsDir: paths.runs, ...(options.now ? { now: options.now } : {}) });
  }

  get runsDir(): string {
    return this.#runsDir;
  }

  /** True while a run started by this process is going. */
  get busy(): boolean {
    return this.#running !== null;
  }

  #graph() {
    const { config, ports, metrics, logger } = this.#options;
    const progress = this.#progress;
    const records = this.#records;
    const now = this.#options.now ?? Date.now;
    return createImproveGraph({
      // Training reports each epoch to <runs>/progress.json (what `nightly --once` and `status` show).
      ports: { ...ports, train: (options) => ports.train({ ...options, onProgress: (report) => progress.training(report) }) },
      onNode: async (node, phase, state) => {
        if (phase !== "start") return;
        // The shared record says which stage the night is at (status on another replica); losing one stage is no reason to stop the night.
        await records.progress({ runId: state.runId, stage: node, at: now() }).catch((error: unknown) => logger.warn({ err: error, runId: state.runId, stage: node }, "run record stage not written"));
        const accepted = state.decisions.filter((d) => d.accepted).length;
        progress.stage(state.runId, node, {
          ...(node === "harvest" ? {} : { harvested: state.harvested.length }),
          ...(state.candidates.length > 0 ? { candidates: state.candidates.length } : {}),
          ...(state.decisions.length > 0 ? { accepted, rejected: state.decisions.length - accepted } : {}),
        });
      },
      store: this.#store,
      runsDir: this.#runsDir,
      checkpointer: this.#checkpointer,
      policy: config.improve.policy,
      criticThreshold: config.agents.criticThreshold,
      harvestMinBatch: config.improve.harvestMinBatch,
      maxPerUserPerDay: config.training.maxPerUserPerDay,
      maxUserShare: config.training.maxUserShare,
      replayRatio: config.training.replayRatio,
      trainAnonymousCorrections: config.improve.trainAnonymousCorrections,
      minSuccessDelta: config.improve.gateMinSuccessDelta,
      maxLatencyRatio: config.improve.gateMaxLatencyRatio,
      maxCostRatio: config.improve.gateMaxCostRatio,
      satisfaction: { maxDrop: config.improve.canaryMaxSatisfactionDrop, minRatings: config.improve.canaryMinRatings },
      channels: config.improve.channels,
      reuseThreshold: config.agents.verifiedReuseThreshold,
      review: { queue: new ReviewQueue({ path: reviewQueuePath(config), ...(ports.events ? { events: ports.events } : {}) }), score: config.improve.voteReviewScore },
      metrics,
      logger,
    });
  }

  /** Runs (or resumes) one night under the lock. Throws RUN_LOCKED when another run holds it. */
  runOnce(): Promise<RunSummary> {
    this.#running ??= this.#locked(() => runNightly({ graph: this.#graph(), store: this.#store, runsDir: this.#runsDir, records: this.#records, metrics: this.#options.metrics, logger: this.#options.logger, ...(this.#options.now ? { now: this.#options.now } : {}) })).finally(() => {
      this.#running = null;
      this.#progress.clear();
    });
    return this.#running;
  }

  /** Approves or rejects a run waiting at the approval step, and runs it to its end. */
  approve({ runId, decision, reason, actor }: { runId: string; decision: "approve" | "reject"; reason?: string; actor?: string }): Promise<RunSummary> {
    return this.#locked(() => resolveApproval({ graph: this.#graph(), store: this.#store, runsDir: this.#runsDir, records: this.#records, metrics: this.#options.metrics, logger: this.#options.logger, runId, decision, ...(reason ? { reason } : {}), ...(actor ? { actor } : {}) })).finally(() => this.#progress.clear());
  }

  /**
   * What tonight's run would harvest (and, with `vote`, what Agent-0 and the council would accept), without
   * training, deploying or moving the harvest window.
   */
  async preview({ vote = false }: { vote?: boolean } = {}): Promise<HarvestResult & { since: number; until: number; candidates: Candidate[]; decisions: VoteDecision[] }> {
    const { config, ports } = this.#options;
    const since = (await this.#store.state()).lastUntil;
    const until = (this.#options.now ?? Date.now)();
    const harvest = await harvestFailures({
      memory: ports.memory,
      since,
      until,
      criticThreshold: config.agents.criticThreshold,
      evalSets: [{ name: "holdout", items: ports.evalSets.holdout }],
      maxPerUserPerDay: config.training.maxPerUserPerDay,
      maxUserShare: config.training.maxUserShare,
      trainAnonymousCorrections: config.improve.trainAnonymousCorrections,
    });
    const candidates: Candidate[] = [];
    const decisions: VoteDecision[] = [];
    if (vote) {
      for (const item of harvest.items) {
        const mine = await ports.rewrite(item);
        candidates.push(...mine);
        if (mine.length === 0) continue;
        try {
          decisions.push(await ports.vote(item, mine));
        } catch (error) {
          if (!isCouncilError(error, "QUORUM_NOT_REACHED")) throw error;
          decisions.push({ itemId: item.id, accepted: false, winnerId: null, winnerScore: 0, ballots: [], reason: error.message });
        }
      }
    }
    return { ...harvest, since, until, candidates, decisions };
  }

  runs(limit = 10): Promise<RunSummary[]> {
    return listRuns({ runsDir: this.#runsDir, records: this.#records, limit });
  }

  /** Sets the last-run gauge from disk, so the "nightly run missing" alert survives restarts. */
  async publishLastRun(): Promise<void> {
    const [last] = await this.runs(1);
    if (last) this.#options.metrics.improvementLastRun.set({ status: last.outcome }, last.endedAt / 1000);
  }

  async #locked<T>(task: () => Promise<T>): Promise<T> {
    const lock = await this.#runLocker.acquire({ purpose: "nightly improvement" });
    try {
      return await task();
    } finally {
      await lock.release();
    }
  }
}
