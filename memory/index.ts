export { FAILURE_CATEGORIES, type FailureCategory, type Feedback, type TurnRecord, type FailureQuery, type MemorySearchFilter, type MemoryHit, type MemoryStore, type Passage, type PassageHit, type KnowledgeBase } from "./types.js";
export { turnRecordSchema, feedbackSchema } from "./turn-schema.js";
export { InMemoryStore, type InMemoryStoreOptions } from "./in-memory-store.js";
export { FaissMemory, type FaissMemoryOptions } from "./faiss-memory.js";
export type { ApproxOptions, IndexStats } from "./faiss-index.js";
export { MarkdownKnowledgeBase, type MarkdownKnowledgeBaseOptions, type KbIndexReport } from "./markdown-knowledge-base.js";
export { splitPassages, splitMarkdown, splitTldrPage, isTldrPage, stripMnemonics, type RawPassage, type SplitOptions } from "./markdown-passages.js";
export { openMemory, openKnowledgeBase, memoryPaths, type OpenFromConfigOptions } from "./open-from-config.js";
