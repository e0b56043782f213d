import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const dir = fileURLToPath(new URL(".", import.meta.url));
const promtool = (...args: string[]) => spawnSync("promtool", args, { cwd: dir, encoding: "utf8" });

describe("Prometheus rules (promtool)", () => {
  it("are valid", () => {
    const result = promtool("check", "rules", "alerts.yml");
    expect(result.error, "promtool is missing: npm run setup installs Debian's prometheus package").toBeUndefined();
    expect(result.stdout + result.stderr).toContain("SUCCESS: 12 rules found");
    expect(result.status).toBe(0);
  });

  it("pass their unit tests: every alert pending, firing and resolved", () => {
    const result = promtool("test", "rules", "alerts.test.yml");
    expect(result.stdout + result.stderr).toContain("SUCCESS");
    expect(result.status).toBe(0);
  });

  it("accept the scrape config", () => {
    const result = promtool("check", "config", "prometheus.yml");
    expect(result.stdout + result.stderr).toContain("SUCCESS");
    expect(result.status).toBe(0);
  });
});
