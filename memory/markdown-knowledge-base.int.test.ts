import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";
import { PROJECT_ROOT } from "../core/index.js";
import type { KbIndexReport } from "./markdown-knowledge-base.js";
import type { PassageHit } from "./types.js";

const run = promisify(execFile);
const dataDir = mkdtempSync(join(tmpdir(), "council-kb-cli-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const tldrCommon = join(PROJECT_ROOT, "..", "shared", "datasets", "tldr", "pages", "common");

async function council(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "scripts", "cli.ts"), ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, COUNCIL_DATA_DIR: dataDir },
    maxBuffer: 16 << 20,
  });
  return stdout;
}

it("council kb index / search over the real tldr pages and the project kb/, re-indexing only changes", async () => {
  const first = JSON.parse(await council("kb", "index", tldrCommon, "--json")) as KbIndexReport;
  expect(first.files).toBeGreaterThan(1000);
  expect(first.added).toBe(first.files);
  expect(first.passages).toBeGreaterThan(first.files * 3);

  const again = JSON.parse(await council("kb", "index", tldrCommon, "--json")) as KbIndexReport;
  expect(again).toMatchObject({ unchanged: first.files, added: 0, changed: 0, removed: 0, passages: first.passages });

  const project = JSON.parse(await council("kb", "index", join(PROJECT_ROOT, "kb"), "--json")) as KbIndexReport;
  expect(project.total).toBe(first.passages + project.passages);

  const tar = JSON.parse(await council("kb", "search", "create a gzipped tar archive", "-k", "5", "--json")) as PassageHit[];
  expect(tar).toHaveLength(5);
  expect(tar.some((hit) => /`tar c\w*z/.test(hit.passage.text))).toBe(true);

  const text = await council("kb", "search", "list files in a directory", "-k", "3");
  expect(text).toMatch(/ls\.md|`ls/);
});
