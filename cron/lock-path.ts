import { join } from "node:path";
import { dataPaths, type CouncilConfig } from "../core/index.js";

/** The one lock every improvement run (schedule, `nightly --once`, `deploy`) takes: `<runs>/nightly.lock`. */
export const nightlyLockPath = (config: Pick<CouncilConfig, "dataDir">): string => join(dataPaths(config).runs, "nightly.lock");
