import { lstatSync, readlinkSync, statSync, symlinkSync, unlinkSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error -- plain ESM setup script without types
import { linkCliBin } from "./build.mjs";

describe("setup: `npx council` works inside the checkout", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "council-setup-build-"));
    await mkdir(join(root, "dist", "scripts"), { recursive: true });
    await writeFile(join(root, "dist", "scripts", "cli.js"), "#!/usr/bin/env node\n", { mode: 0o644 });
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("links node_modules/.bin/council to the built CLI (relative, executable), repairs a wrong link, and is idempotent", () => {
    const link = join(root, "node_modules", ".bin", "council");
    linkCliBin({ root });
    expect(readlinkSync(link)).toBe(join("..", "..", "dist", "scripts", "cli.js"));
    expect(statSync(link).mode & 0o111).not.toBe(0);
    linkCliBin({ root });
    expect(readlinkSync(link)).toBe(join("..", "..", "dist", "scripts", "cli.js"));
    unlinkSync(link);
    symlinkSync("/nowhere/cli.js", link);
    linkCliBin({ root });
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(join("..", "..", "dist", "scripts", "cli.js"));
  });
});

