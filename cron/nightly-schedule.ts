import schedule from "node-schedule";
import { CouncilError, isCouncilError, silentLogger, type Logger } from "../core/index.js";

export interface NightlySchedule {
  /** When the next run fires (null once disposed). */
  nextRun(): Date | null;
  /** True while a scheduled run is executing. */
  running(): boolean;
  dispose(): Promise<void>;
}

export interface NightlyScheduleOptions {
  /** Cron expression (config.improve.schedule), e.g. "0 2 * * *" = 02:00 local time. */
  cron: string;
  /** The improvement run (`nightly --once` does the same under the run lock). */
  run: () => Promise<unknown>;
  logger?: Logger;
  /** IANA time zone; @default local time */
  tz?: string;
}

/**
 * Schedules the nightly improvement run inside `council serve` with node-schedule. A firing while the
 * previous run is still going is skipped (and logged); a run's failure is logged, never crashes the server.
 * `dispose()` cancels the schedule and waits for a run in progress.
 */
export function createNightlySchedule({ cron, run, logger = silentLogger, tz }: NightlyScheduleOptions): NightlySchedule {
  let current: Promise<void> | null = null;
  const fire = () => {
    if (current !== null) {
      logger.warn("nightly run still in progress; skipping this firing");
      return;
    }
    logger.info("nightly improvement run starting");
    current = run()
      .then((result) => logger.info({ result }, "nightly improvement run finished"))
      .catch((error: unknown) => {
        if (isCouncilError(error, "RUN_LOCKED")) logger.warn({ err: error }, "nightly run skipped: another run holds the lock");
        else logger.error({ err: error }, "nightly improvement run failed");
      })
      .finally(() => {
        current = null;
      });
  };
  const job = schedule.scheduleJob(tz ? { rule: cron, tz } : cron, fire);
  if (job === null) throw new CouncilError("CONFIG_INVALID", `Invalid COUNCIL_IMPROVE_SCHEDULE (config key "improve.schedule"): ${JSON.stringify(cron)} is not a cron expression.`, { details: { key: "improve.schedule" } });
  let disposed = false;
  return {
    nextRun: () => {
      if (disposed) return null;
      // node-schedule 2 returns a CronDate here although its types say Date.
      const next = job.nextInvocation() as Date | { toDate(): Date } | null;
      return next === null ? null : next instanceof Date ? next : next.toDate();
    },
    running: () => current !== null,
    async dispose() {
      disposed = true;
      job.cancel();
      if (current) await current;
    },
  };
}
