import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createMetrics } from "../../core/index.js";

const dashboard = JSON.parse(readFileSync(new URL("./council-dashboard.json", import.meta.url), "utf8")) as {
  uid: string;
  title: string;
  schemaVersion: number;
  templating: { list: Array<{ name: string }> };
  annotations: { list: Array<{ expr: string }> };
  panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
};
const rules = readFileSync(new URL("../prometheus/alerts.yml", import.meta.url), "utf8");

/** Metric names a PromQL text refers to, with histogram series suffixes folded into the family name. */
export function metricNames(promql: string): string[] {
  const names = new Set<string>();
  for (const [name] of promql.matchAll(/\b(?:council|process)_[a-z0-9_]+\b/g)) names.add(name.replace(/_(bucket|sum|count)$/, ""));
  return [...names];
}

describe("Grafana dashboard", () => {
  it("is a classic dashboard with uid, title, schemaVersion and adapter/route variables", () => {
    expect(dashboard.uid).toBe("council-overview");
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(expect.arrayContaining(["adapter", "route"]));
    expect(dashboard.panels.length).toBeGreaterThan(10);
    for (const panel of dashboard.panels) expect(panel.targets.length, panel.title).toBeGreaterThan(0);
  });

  it("names only metrics that Council exports, in panels, annotations and alert rules", async () => {
    const exported = new Set(
      [...(await createMetrics().registry.metrics()).matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!),
    );
    const used = new Set([
      ...dashboard.panels.flatMap((p) => p.targets.flatMap((t) => metricNames(t.expr))),
      ...dashboard.annotations.list.flatMap((a) => metricNames(a.expr)),
      ...metricNames(rules),
    ]);
    expect(used.size).toBeGreaterThan(15);
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
  });

  it("shows every gate and canary metric's verdict, the 👍 share and the cost per answer (tokens, CPU seconds) by adapter", () => {
    const panel = (title: string) => dashboard.panels.find((p) => p.title === title)?.targets.map((t) => t.expr).join(" ") ?? "";
    expect(panel("Gate verdict per metric (last night)")).toBe("council_gate_metric_passed");
    expect(panel("Canary verdict per metric (last window)")).toBe("council_canary_metric_passed");
    expect(panel("👍 share by adapter")).toMatch(/^sum by \(adapter\) \(increase\(council_feedback_total\{[^}]*rating="up"\}\[1h\]\)\) \/ sum by \(adapter\) \(increase\(council_feedback_total/);
    for (const [title, counter] of [["Tokens per answer by adapter", "council_tokens_generated_total"], ["CPU seconds per answer by adapter", "council_answer_cpu_seconds_total"]] as const) {
      expect(metricNames(panel(title)), title).toEqual([counter, "council_requests_total"]);
      expect(panel(title), title).toContain('outcome=~"success|failure"');
    }
  });

  it("detects a metric the server does not export", () => {
    expect(metricNames('rate(council_made_up_total[5m]) + council_request_duration_seconds_bucket')).toEqual(["council_made_up_total", "council_request_duration_seconds"]);
  });
});
