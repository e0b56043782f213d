import { spawnSync } from "node:child_process";

export function log(message) {
  console.log(`[setup] ${message}`);
}

/** Runs a command, inheriting stdio; throws with the command line on failure. */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: "inherit", ...options });
  if (result.error) throw new Error(`${command} could not start: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${result.status}`);
  return result;
}
