import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createTinyModel } from "../../test/helpers/tiny-model.js";
import { runCli } from "../../test/helpers/run-cli.js";

/** In-process commands build a whole runtime (model, memory, kb): their logs must not reach stdout under --json. */
describe("--json output of in-process commands is exactly one JSON document on stdout (real CLI process, real model)", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it.each([["harvest", "--json"], ["vote", "--json"], ["nightly", "--once", "--dry-run", "--json"]])("%s %s", async (...args) => {
    const dir = await mkdtemp(join(tmpdir(), "council-json-"));
    dirs.push(dir);
    const modelPath = await createTinyModel({ dir });
    // Default log level (info): the runtime logs while it loads.
    const result = await runCli(args, { COUNCIL_DATA_DIR: dir, COUNCIL_MODEL: modelPath, COUNCIL_THREADS: "1", COUNCIL_PARALLEL: "1", COUNCIL_LOG_LEVEL: "info" });
    expect(result.code, result.stderr).toBe(0);
    expect(() => JSON.parse(result.stdout), result.stdout.slice(0, 400)).not.toThrow();
    expect(JSON.parse(result.stdout)).toEqual(expect.any(Object));
    // The logs still exist, on stderr.
    expect(result.stderr).toContain('"level":30');
  });
});
