import type { Command } from "commander";
import { createLogger, createMetrics, CouncilError, loadConfig } from "../../core/index.js";
import { createCouncilRuntime } from "../../council/index.js";
import { createNightlySchedule, type NightlySchedule } from "../../cron/index.js";
import { deferredImprovement, startServer } from "../../server/index.js";
import { ensureAdminTokenFile, newInstanceId, removeServerInfo, writeServerInfo } from "./local-server.js";

export function register(program: Command): void {
  program
    .command("serve")
    .description("Serve the council: WebSocket chat at /chat, the web page at /, /health, /metrics, POST /feedback, the admin API; runs the nightly loop on schedule")
    .option("--host <host>", "interface to listen on (COUNCIL_HOST, default 127.0.0.1)")
    .option("--port <port>", "port (COUNCIL_PORT, default 8080; 0 picks a free one)")
    .action(async (options: { host?: string; port?: string }) => {
      const port = options.port === undefined ? undefined : Number(options.port);
      if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new CouncilError("CONFIG_INVALID", `--port must be 0-65535, got ${options.port}`);
      const flags = { ...(options.host === undefined ? {} : { host: options.host }), ...(port === undefined ? {} : { port }) };
      const base = loadConfig({ overrides: { server: flags } });
      // Without COUNCIL_ADMIN_TOKEN the admin API uses a per-install secret in the data dir (mode 0600), which the
      // CLI of the same data dir reads: `npx council nightly --once` works out of the box, and nothing else has it.
      const adminToken = base.server.adminToken ?? ensureAdminTokenFile(base.dataDir);
      const instanceId = newInstanceId();
      const config = loadConfig({ overrides: { server: { ...flags, adminToken, instanceId } } });
      const logger = createLogger(config);
      const metrics = createMetrics();
      // Model, memory, knowledge base, adapter serving (loras/current → stable slot, canary) and the nightly loop.
      // They load only once the port is bound: a busy port fails at once (PORT_IN_USE), before the model loads.
      let startLoading!: () => void;
      const bundle = new Promise<void>((resolve) => (startLoading = resolve)).then(() => createCouncilRuntime({ config, logger, metrics }));
      const loading = () => {
        startLoading();
        return bundle.then((loaded) => loaded.council);
      };
      const server = await startServer({ config, logger, metrics, loading, improvement: deferredImprovement(bundle) });
      const bound = server.app.server.address();
      writeServerInfo(config.dataDir, { pid: process.pid, host: config.server.host, port: typeof bound === "object" && bound !== null ? bound.port : config.server.port, instanceId, startedAt: Date.now() });
      console.log(`council: listening on ${server.url} (web chat ${server.url}/, WebSocket ${server.url.replace(/^http/, "ws")}/chat); loading the model…`);
      let schedule: NightlySchedule | undefined;
      const stopped = new Promise<void>((resolve) => {
        const onSignal = (signal: NodeJS.Signals) => {
          logger.info({ signal }, "shutting down");
          void (async () => {
            await schedule?.dispose();
            await server.stop();
            removeServerInfo(config.dataDir, instanceId);
            resolve();
          })();
        };
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
      });
      const ready = server.loaded.then(async () => {
        const { improvement } = await bundle;
        if (improvement !== null && config.improve.enabled) {
          schedule = createNightlySchedule({ cron: config.improve.schedule, run: () => improvement.runOnce(), logger });
          logger.info({ next: schedule.nextRun() }, "nightly improvement scheduled");
        }
        console.log(`council: ready${schedule ? ` (next nightly run ${schedule.nextRun()?.toISOString()})` : ""}`);
      });
      await Promise.race([ready, stopped]);
      await stopped;
      console.log("council: stopped");
    });
}
