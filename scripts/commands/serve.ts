import type { Command } from "commander";
import { createLogger, createMetrics, CouncilError, loadConfig, type CouncilConfig, type CouncilMetrics, type Logger } from "../../core/index.js";
import { createCouncil, type Council, type Disposable } from "../../council/index.js";
import { openKnowledgeBase, openMemory } from "../../memory/index.js";
import { createChatModel, createEmbeddings } from "../../models/index.js";
import { startServer } from "../../server/index.js";

/**
 * Builds the council the server runs: chat model, embeddings, FAISS memory and the knowledge base from
 * config. (To be replaced by council's createCouncilFromConfig once it lands; same parts.)
 */
async function loadCouncil({ config, logger, metrics }: { config: CouncilConfig; logger: Logger; metrics: CouncilMetrics }): Promise<Council> {
  const owned: Disposable[] = [];
  try {
    const chatModel = await createChatModel({ config, logger });
    if ("dispose" in chatModel) owned.push(chatModel);
    const embeddings = await createEmbeddings({ config, logger });
    if ("dispose" in embeddings) owned.push(embeddings);
    const memory = await openMemory({ config, embeddings, logger, metrics });
    owned.unshift(memory);
    const { kb } = await openKnowledgeBase({ config, embeddings, logger });
    owned.unshift(kb);
    return await createCouncil({ config, chatModel, embeddings, memory, knowledgeBase: kb, metrics, logger, owned });
  } catch (error) {
    for (const resource of owned) await resource.dispose();
    throw error;
  }
}

export function register(program: Command): void {
  program
    .command("serve")
    .description("Serve the council: WebSocket chat at /chat, the web page at /, /health, /metrics, POST /feedback")
    .option("--host <host>", "interface to listen on (COUNCIL_HOST, default 127.0.0.1)")
    .option("--port <port>", "port (COUNCIL_PORT, default 8080; 0 picks a free one)")
    .action(async (options: { host?: string; port?: string }) => {
      const port = options.port === undefined ? undefined : Number(options.port);
      if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new CouncilError("CONFIG_INVALID", `--port must be 0-65535, got ${options.port}`);
      const config = loadConfig({ overrides: { server: { ...(options.host === undefined ? {} : { host: options.host }), ...(port === undefined ? {} : { port }) } } });
      const logger = createLogger(config);
      const metrics = createMetrics();
      const server = await startServer({ config, logger, metrics, loading: loadCouncil({ config, logger, metrics }) });
      console.log(`council: listening on ${server.url} (web chat ${server.url}/, WebSocket ${server.url.replace(/^http/, "ws")}/chat); loading the model…`);
      const stopped = new Promise<void>((resolve) => {
        const onSignal = (signal: NodeJS.Signals) => {
          logger.info({ signal }, "shutting down");
          void server.stop().then(resolve);
        };
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
      });
      await Promise.race([server.loaded.then(() => console.log("council: ready")), stopped]);
      await stopped;
      console.log("council: stopped");
    });
}
