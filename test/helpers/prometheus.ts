import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { freePort } from "./net.js";

/** Debian's Prometheus (`npm run setup` installs the package). */
export const PROMETHEUS_BIN = "/usr/bin/prometheus";
export const havePrometheus = existsSync(PROMETHEUS_BIN);

export interface PrometheusServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** What Prometheus wrote to stdout and stderr so far (for failure messages). */
  log(): string;
  /** SIGTERM, SIGKILL after 5 s; resolves once the process has exited. */
  stop(): Promise<void>;
}

/**
 * Starts a real Prometheus on a free loopback port with a temp TSDB under `dir`, scraping `targets` (host:port)
 * every `scrapeIntervalSeconds` as job `council`, and waits until it reports ready.
 */
export async function startPrometheus(options: { dir: string; targets: string[]; scrapeIntervalSeconds?: number; readyTimeoutMs?: number }): Promise<PrometheusServer> {
  const interval = `${options.scrapeIntervalSeconds ?? 1}s`;
  await mkdir(options.dir, { recursive: true });
  const configPath = join(options.dir, "prometheus.yml");
  const config = ["global:", `  scrape_interval: ${interval}`, `  evaluation_interval: ${interval}`, "scrape_configs:", "  - job_name: council", "    metrics_path: /metrics", "    static_configs:", `      - targets: [${options.targets.map((target) => `"${target}"`).join(", ")}]`, ""];
  await writeFile(configPath, config.join("\n"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(PROMETHEUS_BIN, [`--config.file=${configPath}`, `--storage.tsdb.path=${join(options.dir, "tsdb")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (chunk) => (log += chunk));
  child.stderr.on("data", (chunk) => (log += chunk));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    const ready = await fetch(`${url}/-/ready`).then((response) => response.ok, () => false);
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`Prometheus not ready within ${options.readyTimeoutMs ?? 60_000} ms; log tail:\n${log.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { url, log: () => log, stop };
}
