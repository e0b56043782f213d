// Debian packages Council needs: libfaiss-dev (faiss-node), cmake/g++/git (llama.cpp), make/python3
// (node-gyp for better-sqlite3), prometheus
// (promtool and the server the canary queries in integration tests), chromium (web page tests), postgresql (the
// Postgres memory store's integration tests start their own server), tmux (the review queue's terminal test),
// python3-torch (`seedling build --full` and the QLoRA path's CPU stand-in in the integration tests), man-db (the
// amend step reads the tools' manual pages: `man -P cat <tool>`).
import { capture, log, onPath, run, SetupError } from "./util.mjs";

export const DEBIAN_PACKAGES = ["libfaiss-dev", "libopenblas-dev", "cmake", "g++", "make", "python3", "git", "prometheus", "chromium", "postgresql", "tmux", "python3-torch", "man-db"];

export function installedPackages(packages) {
  const result = capture("dpkg-query", ["-W", "-f=${Package} ${Status}\\n", ...packages]);
  const installed = new Set();
  for (const line of result.stdout.split("\n")) {
    const [name, ...status] = line.trim().split(/\s+/);
    if (name && status.join(" ") === "install ok installed") installed.add(name.split(":")[0]);
  }
  return installed;
}

/** Installs missing packages as root or through sudo; otherwise stops with the exact command. */
export function ensureDebianPackages({ packages = DEBIAN_PACKAGES } = {}) {
  if (!onPath("dpkg-query")) {
    const missingTools = ["cmake", "g++", "git"].filter((tool) => !onPath(tool));
    if (missingTools.length > 0) {
      throw new SetupError(`not a Debian system and ${missingTools.join(", ")} missing`, { fix: `install ${missingTools.join(", ")} and the FAISS C++ library (libfaiss) with your package manager` });
    }
    return { status: "not Debian: skipped (cmake, g++, git found)" };
  }
  const installed = installedPackages(packages);
  const missing = packages.filter((name) => !installed.has(name));
  if (missing.length === 0) return { status: `all present (${packages.join(", ")})` };
  const installLine = `apt-get install -y ${missing.join(" ")}`;
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  let prefix;
  if (process.getuid?.() === 0) prefix = [];
  else if (onPath("sudo")) prefix = ["sudo"];
  else throw new SetupError(`missing Debian packages: ${missing.join(", ")}`, { fix: `as root: apt-get update && ${installLine}` });
  const [command, ...baseArgs] = [...prefix, "apt-get"];
  log(`apt: installing ${missing.join(", ")}${prefix.length ? " (through sudo)" : ""}`);
  run(command, [...baseArgs, "update"], { env, fix: `as root: apt-get update && ${installLine}` });
  run(command, [...baseArgs, "install", "-y", ...missing], { env, fix: `as root: apt-get update && ${installLine}` });
  const still = missing.filter((name) => !installedPackages(missing).has(name));
  if (still.length > 0) throw new SetupError(`apt-get did not install ${still.join(", ")}`, { fix: `as root: apt-get update && apt-get install -y ${still.join(" ")}` });
  return { status: `installed ${missing.join(", ")}` };
}
