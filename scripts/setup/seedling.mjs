// Builds the seedling model (models/seedling.gguf) through the CLI the seedling helper owns:
// `council seedling build --if-missing` (it keeps its own cache keyed by recipe and corpus).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { capture, run, SetupError } from "./util.mjs";

export function ensureSeedling({ root }) {
  const cli = join(root, "dist", "scripts", "cli.js");
  if (!existsSync(cli)) throw new SetupError("dist/scripts/cli.js is missing", { fix: "npm run setup -- --only build (or npm run build)" });
  const help = capture(process.execPath, [cli, "seedling", "build", "--help"], { cwd: root });
  if (!help.ok || !help.stdout.includes("--if-missing")) {
    return { status: "skipped: this checkout has no `council seedling build --if-missing` command yet" };
  }
  run(process.execPath, [cli, "seedling", "build", "--if-missing"], { cwd: root, fix: "see the error above; rerun with: npx council seedling build" });
  return { status: existsSync(join(root, "models", "seedling.gguf")) ? "models/seedling.gguf ready" : "seedling command ran" };
}
