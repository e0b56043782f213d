import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { configurationDoc, CouncilError, PROJECT_ROOT, withConfigTable } from "../../core/index.js";

/** The files `config docs` writes, from the schema in core/config.ts. */
export function configDocTargets(root = PROJECT_ROOT): Array<{ path: string; expected: (current: string) => string }> {
  return [
    { path: join(root, "README.md"), expected: (current) => withConfigTable(current) },
    { path: join(root, "docs", "configuration.md"), expected: () => configurationDoc() },
  ];
}

export function register(program: Command): void {
  const config = program.command("config").description("Configuration helpers");
  config
    .command("docs")
    .description("Write the configuration table (README.md, between its markers) and docs/configuration.md from the schema in core/config.ts")
    .option("--check", "write nothing; exit 1 when a file is out of date")
    .action((options: { check?: boolean }) => {
      const stale: string[] = [];
      for (const target of configDocTargets()) {
        let current = "";
        try {
          current = readFileSync(target.path, "utf8");
        } catch (cause) {
          if ((cause as NodeJS.ErrnoException).code !== "ENOENT") throw cause;
        }
        const expected = target.expected(current);
        if (expected === current) continue;
        stale.push(target.path);
        if (!options.check) writeFileSync(target.path, expected);
      }
      if (options.check && stale.length > 0) throw new CouncilError("CONFIG_INVALID", `Out of date with core/config.ts: ${stale.join(", ")}; run \`npx council config docs\`.`);
      console.log(stale.length === 0 ? "config docs: up to date" : `config docs: wrote ${stale.join(", ")}`);
    });
}
