import type { Command } from "commander";
import { register as dataset } from "./dataset.js";
import { register as doctor } from "./doctor.js";
import { register as graph } from "./graph.js";
import { register as seedling } from "./seedling.js";
import { register as deploy } from "./deploy.js";
import { register as rollback } from "./rollback.js";
import { register as status } from "./status.js";
import { register as kb } from "./kb.js";
import { register as ask } from "./ask.js";
import { register as bench } from "./bench.js";
import { register as serve } from "./serve.js";
import { register as nightly } from "./nightly.js";
import { register as train } from "./train.js";
import { register as config } from "./config.js";
import { register as report } from "./report.js";
import { register as verified } from "./verified.js";
import { register as review } from "./review.js";
import { register as audit } from "./audit.js";

/**
 * Each command lives in its own file and exports `register(program)`.
 * Add a command here (an import line and a list entry) only when it really works (no stubs).
 */
const commands: Array<(program: Command) => void> = [
  kb,
  dataset,
  doctor,
  graph,
  deploy,
  rollback,
  status,
  ask,
  serve,
  nightly,
  bench,
  train,
  seedling,
  config,
  report,
  verified,
  review,
  audit,
];

export function registerCommands(program: Command): void {
  for (const register of commands) register(program);
}
