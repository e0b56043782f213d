import type { Command } from "commander";
import { register as dataset } from "./dataset.js";
import { register as doctor } from "./doctor.js";
import { register as graph } from "./graph.js";

/**
 * Each command lives in its own file and exports `register(program)`.
 * Add a command here (an import line and a list entry) only when it really works (no stubs).
 */
const commands: Array<(program: Command) => void> = [
  dataset,
  doctor,
  graph,
];

export function registerCommands(program: Command): void {
  for (const register of commands) register(program);
}
