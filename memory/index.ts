export { FAILURE_CATEGORIES, type FailureCategory, type Feedback, type TurnRecord, type FailureQuery, type MemorySearchFilter, type MemoryHit, type MemoryStore, type Passage, type PassageHit, type KnowledgeBase } from "./types.js";
export { turnRecordSchema, feedbackSchema } from "./turn-schema.js";
export { InMemoryStore, type InMemoryStoreOptions } from "./in-memory-store.js";
export { FaissMemory, type FaissMemoryOptions } from "./faiss-memory.js";
export type { ApproxOptions, IndexStats } from "./faiss-index.js";
export { MarkdownKnowledgeBase, type MarkdownKnowledgeBaseOptions, type KbIndexReport } from "./markdown-knowledge-base.js";
export { splitPassages, splitMarkdown, splitTldrPage, isTldrPage, stripMnemonics, type RawPassage, type SplitOptions } from "./markdown-passages.js";
export { openMemory, openKnowledgeBase, openVerifiedMemory, memoryPaths, type OpenFromConfigOptions, type OpenMemoryOptions } from "./open-from-config.js";
export { memoryStores, sqliteMemoryStore, inMemoryStore, type MemoryStoreBackend, type MemoryStoreCapabilities, type MemoryStoreContext } from "./memory-stores.js";
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
