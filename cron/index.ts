export { acquireRunLock, withRunLock, pidIsAlive, lockInfoSchema, type AcquireRunLockOptions, type LockInfo, type RunLock } from "./run-lock.js";
export { acquirePostgresRunLock, type AcquirePostgresRunLockOptions } from "./postgres-run-lock.js";
export { openRunLocker, runLockers, fileRunLocker, postgresRunLocker, type RunLocker, type RunLockerBackend, type RunLockerCapabilities } from "./run-lockers.js";
export { createNightlySchedule, type NightlySchedule, type NightlyScheduleOptions } from "./nightly-schedule.js";
export { nightlyLockPath } from "./lock-path.js";
export { runIdSchema, runRecordSchema, runReportSchema, type RunEnd, type RunRecord, type RunRecords, type RunReport } from "./run-records.js";
export { FileRunRecords } from "./file-run-records.js";
export { PostgresRunRecords, type PostgresRunRecordsOptions } from "./postgres-run-records.js";
export { openRunRecords, runRecordStores, fileRunRecordStore, postgresRunRecordStore, type RunRecordBackend, type RunRecordCapabilities } from "./run-record-stores.js";
