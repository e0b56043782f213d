import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The project root (where package.json, kb/ and the default data live). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), basenameIsDist() ? "../.." : "..");

function basenameIsDist(): boolean {
  // core/project-root.ts runs from <root>/core (tsx, vitest) or <root>/dist/core (compiled).
  return dirname(fileURLToPath(import.meta.url)).split(/[\\/]/).slice(-2, -1)[0] === "dist";
}
