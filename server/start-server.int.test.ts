import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../core/index.js";
import { createTinyModel } from "../test/helpers/tiny-model.js";

const EXIT_WITHIN_MS = 45_000;

describe("npx council serve on a busy port (real process, real socket)", () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const step of cleanup) await step();
  });

  // On an idle machine it exits about a second after start; the bound is wide because tsx alone takes 10+ s to
  // start the CLI on a loaded 2-core CI box. Before the fix the process loaded the model and never exited.
  it("exits non-zero with `council: PORT_IN_USE`, no stack, without loading the model", async () => {
    const dir = await mkdtemp(join(tmpdir(), "council-busy-port-"));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const modelPath = await createTinyModel({ dir });
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    cleanup.push(() => new Promise((resolve) => blocker.close(() => resolve())));
    const port = (blocker.address() as AddressInfo).port;
    const started = Date.now();
    const child = spawn(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "scripts", "cli.ts"), "serve"], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, COUNCIL_DATA_DIR: dir, COUNCIL_HOST: "127.0.0.1", COUNCIL_PORT: String(port), COUNCIL_MODEL: modelPath, COUNCIL_THREADS: "1", COUNCIL_LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        resolve(null);
      }, EXIT_WITHIN_MS);
      child.once("exit", (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    expect(code, `still running after ${EXIT_WITHIN_MS} ms:\n${output}`).not.toBeNull();
    expect(code).not.toBe(0);
    expect(Date.now() - started).toBeLessThan(EXIT_WITHIN_MS);
    expect(output).toContain(`council: PORT_IN_USE: 127.0.0.1:${port} is already in use`);
    expect(output).not.toMatch(/^\s+at /m);
    expect(output).not.toContain("EADDRINUSE");
    expect(output).not.toMatch(/listening on|loading the model/i);
  }, EXIT_WITHIN_MS + 10_000);
});
