export { acquireRunLock, withRunLock, pidIsAlive, lockInfoSchema, type AcquireRunLockOptions, type LockInfo, type RunLock } from "./run-lock.js";
export { createNightlySchedule, type NightlySchedule, type NightlyScheduleOptions } from "./nightly-schedule.js";
export { nightlyLockPath } from "./lock-path.js";
