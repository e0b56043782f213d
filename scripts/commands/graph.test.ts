import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { register } from "./graph.js";

async function run(args: string[]): Promise<string> {
  const lines: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((line: string) => void lines.push(line));
  const program = new Command().exitOverride();
  register(program);
  try {
    await program.parseAsync(["node", "council", ...args]);
  } finally {
    log.mockRestore();
  }
  return lines.join("\n");
}

describe("council graph draw", () => {
  afterEach(() => vi.restoreAllMocks());

  it("prints the default chat graph as Mermaid", async () => {
    const out = await run(["graph", "draw"]);
    expect(out).toMatch(/^%%\{init/);
    expect(out).toContain("__start__ --> router;");
    expect(out).toContain("critic -.-> revise;");
  });

  it("draws the graph a spec file wires, and rejects a bad spec naming the field", async () => {
    const dir = mkdtempSync(join(tmpdir(), "graph-spec-"));
    writeFileSync(join(dir, "ok.json"), JSON.stringify({ nodes: { revise: "none" } }));
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ nodes: { revise: "maybe" } }));
    const out = await run(["graph", "draw", "--spec", join(dir, "ok.json")]);
    expect(out).toContain("critic --> record;");
    expect(out).not.toContain("revise");
    await expect(run(["graph", "draw", "--spec", join(dir, "bad.json")])).rejects.toMatchObject({ code: "CONFIG_INVALID", message: expect.stringMatching(/nodes\.revise/) });
  });
});
