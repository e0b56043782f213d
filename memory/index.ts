export { FAILURE_CATEGORIES, type FailureCategory, type Feedback, type TurnRecord, type FailureQuery, type MemorySearchFilter, type MemoryHit, type MemoryStore, type Passage, type PassageHit, type KnowledgeBase } from "./types.js";
export { turnRecordSchema, feedbackSchema } from "./turn-schema.js";
export { InMemoryStore, type InMemoryStoreOptions } from "./in-memory-store.js";
export { PostgresMemory, redactDatabaseUrl, type PostgresMemoryOptions } from "./postgres-memory.js";
export { applyMigrations, MIGRATIONS, RUN_LOCK, CHECKPOINT_SETUP_LOCK, type Migration } from "./postgres-migrations.js";
export { FaissMemory, type FaissMemoryOptions } from "./faiss-memory.js";
export type { ApproxOptions, FaissThread, IndexStats } from "./faiss-index.js";
export { MarkdownKnowledgeBase, DEFAULT_TITLE_BOOST, type MarkdownKnowledgeBaseOptions, type KbIndexReport } from "./markdown-knowledge-base.js";
export { cosineRanker, hybridRanker, passageRankers, cosineRankerBackend, hybridRankerBackend, DEFAULT_LEXICAL_WEIGHT, type PassageRanker, type PassageRankerBackend, type PassageRankerCapabilities } from "./passage-rankers.js";
export { LexicalIndex, lexicalTerms, stemWord, type LexicalIndexOptions } from "./lexical-index.js";
export { splitPassages, splitMarkdown, splitTldrPage, isTldrPage, plainTldrCommand, stripMnemonics, type RawPassage, type SplitOptions } from "./markdown-passages.js";
export { openMemory, openKnowledgeBase, openVerifiedMemory, openEventLog, memoryPaths, type OpenFromConfigOptions, type OpenMemoryOptions } from "./open-from-config.js";
export { memoryStores, sqliteMemoryStore, inMemoryStore, postgresMemoryStore, type MemoryStoreBackend, type MemoryStoreCapabilities, type MemoryStoreContext } from "./memory-stores.js";
export {
  VerifiedMemory,
  verifiedEntryId,
  VERIFIED_SOURCES,
  VERIFIED_STATUSES,
  type VerifiedEntry,
  type VerifiedEntryInput,
  type VerifiedHit,
  type VerifiedSource,
  type VerifiedStatus,
  type VerifiedVisibility,
  type VerifiedMemoryOptions,
} from "./verified-memory.js";
export { openPostgresVerifiedRows } from "./verified-postgres.js";
export type { VerifiedRows, VerifiedWrite } from "./verified-rows.js";
export {
  EVENT_TYPES,
  NIGHTLY_ACTOR,
  ANONYMOUS_ACTOR,
  councilEventSchema,
  type CouncilEvent,
  type EventInput,
  type EventSink,
  type EventType,
} from "./event-log-schema.js";
export { EventLog, segmentDay, parseSegment, type EventLogOptions, type EventSegment, type EraseReport } from "./event-log.js";
export { withEventLog } from "./logged-memory.js";
export { rebuildFromLog, type RebuildFromLogOptions, type RebuildResult } from "./rebuild-from-log.js";
export { eraseUserTurns } from "./erase-user.js";
export { auditChain, formatAudit, describeEvent, type AuditReport, type AuditExample } from "./event-audit.js";
export { ManualPages, parseManualOptions, type ManualOption, type ManualPagesOptions, type OptionManual } from "./manual-pages.js";
