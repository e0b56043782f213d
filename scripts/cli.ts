#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { isCouncilError } from "../core/index.js";
import { registerCommands } from "./commands/index.js";

const program = new Command()
  .name("council")
  .description("Council: a self-improving multi-agent council runtime")
  .showHelpAfterError()
  .exitOverride();

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else if (isCouncilError(error)) {
    console.error(`council: ${error.code}: ${error.message}`);
    process.exitCode = 1;
  } else {
    console.error(error);
    process.exitCode = 1;
  }
}
