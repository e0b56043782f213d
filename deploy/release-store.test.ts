import { FileReleaseStore } from "./release-store.js";
import { releaseStoreContract } from "./release-store.contract.js";
import { MemoryReleaseStore } from "./test-memory-release-store.js";

releaseStoreContract("file (loras/ links, history.jsonl, canary.json)", async (registry) => new FileReleaseStore({ registry }));
// The fake the replica-routing unit test shares between two watchers: held to the same contract.
releaseStoreContract("memory (test fake)", async (registry) => new MemoryReleaseStore({ registry }));
