import type { Command } from "commander";

/**
 * Each command lives in its own file and exports `register(program)`.
 * Add a command here only when it really works (no stubs).
 */
const commands: Array<(program: Command) => void> = [];

export function registerCommands(program: Command): void {
  for (const register of commands) register(program);
}
