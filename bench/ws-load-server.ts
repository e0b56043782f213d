/**
 * The server process bench/ws-load.ts measures when the seedling is not used: the real buildApp
 * (fastify + ws, queue, limits) and real FaissMemory (SQLite + faiss-node), with a FakeCouncilRuntime
 * in place of the model (streams a fixed ~24-word answer, `--token-delay-ms` between words).
 * Prints `LISTENING <port>` when ready. Configuration comes from COUNCIL_* like `npx council serve`.
 *
 *   node --import tsx bench/ws-load-server.ts --dir <memory dir> [--token-delay-ms 2]
 */
import { parseArgs } from "node:util";
import { createLogger, createMetrics, loadConfig } from "../core/index.js";
import { FaissMemory } from "../memory/index.js";
import { buildApp } from "../server/index.js";
import { FakeCouncilRuntime } from "../test/fakes/fake-runtime.js";

const { values } = parseArgs({ options: { dir: { type: "string" }, "token-delay-ms": { type: "string", default: "2" } } });
if (values.dir === undefined) throw new Error("--dir is required");
const config = loadConfig();
const logger = createLogger(config);
const metrics = createMetrics();
const memory = await FaissMemory.create({ dir: values.dir, metrics });
const runtime = new FakeCouncilRuntime({
  memory,
  tokenDelayMs: Number(values["token-delay-ms"]),
  answer: (text) => `To ${text}, open a terminal, check the manual page, run the command with the right flags, and verify the result before you go on with the next step of the task.`,
});
const app = await buildApp({ config, runtime, metrics, logger });
await app.listen({ host: config.server.host, port: config.server.port });
const address = app.server.address();
console.log(`LISTENING ${typeof address === "object" && address ? address.port : config.server.port}`);
const stop = async () => {
  await app.close();
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
