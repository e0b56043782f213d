// `npm run build` (tsc -p tsconfig.build.json) when the TypeScript sources changed since the last build,
// so `npx council` (dist/scripts/cli.js) works. A stamp of every source file's path, size and mtime
// makes a re-run on an unchanged tree instant.
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { capture, listFiles, readJsonFile, SetupError, sha256, writeAtomic } from "./util.mjs";

const STAMP = join("dist", ".council-build-stamp");

export function sourceFingerprint(root) {
  const config = readJsonFile(join(root, "tsconfig.build.json"));
  const include = config?.include ?? [];
  const parts = [readFileSync(join(root, "tsconfig.build.json"), "utf8"), readFileSync(join(root, "tsconfig.json"), "utf8"), readFileSync(join(root, "package-lock.json"), "utf8")];
  for (const dir of include) {
    for (const file of listFiles(join(root, dir))) {
      if (!/\.(ts|mts|cts)$/.test(file) || file.endsWith(".test.ts")) continue;
      const full = join(root, dir, file);
      const stat = statSync(full);
      parts.push(`${dir}/${file}:${stat.size}:${stat.mtimeMs}`);
    }
  }
  return sha256(parts.join("\n"));
}

/**
 * npm links the bins of dependencies, not the project's own: without node_modules/.bin/council,
 * `npx council` inside the checkout says "council: not found". Links it (relative, like npm does).
 */
export function linkCliBin({ root }) {
  const cli = join(root, "dist", "scripts", "cli.js");
  chmodSync(cli, 0o755);
  const binDir = join(root, "node_modules", ".bin");
  const link = join(binDir, "council");
  const target = join("..", "..", "dist", "scripts", "cli.js");
  let current = null;
  try {
    current = lstatSync(link).isSymbolicLink() ? readlinkSync(link) : "";
  } catch {
    current = null; // no link yet
  }
  if (current === target) return;
  mkdirSync(binDir, { recursive: true });
  if (current !== null) rmSync(link, { force: true });
  symlinkSync(target, link);
}

export function ensureBuild({ root }) {
  const fingerprint = sourceFingerprint(root);
  const stampPath = join(root, STAMP);
  const cli = join(root, "dist", "scripts", "cli.js");
  if (existsSync(cli) && existsSync(stampPath) && readFileSync(stampPath, "utf8").trim() === fingerprint) {
    linkCliBin({ root });
    return { status: "up to date" };
  }
  const result = capture("nice", ["-n", "10", "npm", "run", "--silent", "build"], { cwd: root });
  if (!result.ok) {
    const errors = result.output.split("\n").filter((line) => /error TS\d+/.test(line));
    throw new SetupError(`tsc -p tsconfig.build.json failed with ${errors.length} error(s):\n${(errors.length > 0 ? errors : result.output.split("\n")).slice(0, 15).join("\n")}`, {
      fix: "fix the TypeScript errors above (npx tsc --noEmit -p tsconfig.json), then npm run setup",
    });
  }
  if (!existsSync(cli)) throw new SetupError("tsc succeeded but dist/scripts/cli.js is missing", { fix: "check tsconfig.build.json (outDir dist, rootDir .)" });
  writeAtomic(stampPath, `${fingerprint}\n`);
  linkCliBin({ root });
  return { status: "compiled (tsc)" };
}
