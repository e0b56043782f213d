import type { ImprovePorts } from "./ports.js";
import type { GateMetricVerdict, GateReport } from "./types.js";

type CanaryResult = Awaited<ReturnType<ImprovePorts["canary"]>>;

/** The canary's verdicts as gate.json records them: its outcome and the metrics of its last analysis window. */
export interface GateCanaryRecord {
  outcome: CanaryResult["outcome"];
  reason: string;
  windows: number;
  metrics: Array<{ metric: string; verdict: "pass" | "fail" | "none"; reason: string; canary?: number; stable?: number }>;
}

/**
 * gate.json after the canary: satisfaction, which the offline gate cannot judge, takes the verdict of the canary's
 * last analysis window (👍 share vs stable; null while either side had too few ratings), and `canary` records the
 * outcome with every live metric's verdict (success, latency, satisfaction, cost).
 */
export function withCanaryVerdicts(report: GateReport, result: CanaryResult): GateReport & { canary: GateCanaryRecord } {
  const windows = result.windows ?? [];
  const last = windows.at(-1)?.metrics ?? [];
  const satisfaction = last.find((metric) => metric.metric === "satisfaction");
  const offline = report.metrics?.find((metric) => metric.metric === "satisfaction");
  const verdict: GateMetricVerdict = {
    metric: "satisfaction",
    passed: satisfaction === undefined || satisfaction.verdict === "none" ? null : satisfaction.verdict === "pass",
    reason: satisfaction === undefined ? `canary ${result.outcome} with no satisfaction verdict: ${result.reason}` : `canary: ${satisfaction.reason}`,
    ...(satisfaction?.canary !== undefined && satisfaction.stable !== undefined ? { candidate: satisfaction.canary, current: satisfaction.stable, unit: "share" as const } : {}),
    ...(offline?.bar === undefined ? {} : { bar: offline.bar }),
  };
  const metrics = report.metrics === undefined ? undefined : report.metrics.map((metric) => (metric.metric === "satisfaction" ? verdict : metric));
  return { ...report, ...(metrics === undefined ? {} : { metrics }), canary: { outcome: result.outcome, reason: result.reason, windows: windows.length, metrics: last } };
}
