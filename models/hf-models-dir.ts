import { join } from "node:path";
import { PROJECT_ROOT } from "../core/index.js";

/** Where `hf:` model URIs are looked up (Council never downloads them). */
export const HF_MODELS_DIR = join(PROJECT_ROOT, "models", "hf");
