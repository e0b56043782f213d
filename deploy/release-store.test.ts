import { FileReleaseStore } from "./release-store.js";
import { releaseStoreContract } from "./release-store.contract.js";

releaseStoreContract("file (loras/ links, history.jsonl, canary.json)", async (registry) => new FileReleaseStore({ registry }));
