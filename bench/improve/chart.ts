import type { ImproveResults } from "./cycle-stats.js";

const SERIES = [
  { key: "traffic_success", label: "traffic success", color: "#1f77b4" },
  { key: "eval_success", label: "eval success", color: "#2ca02c" },
  { key: "repeat_failure_rate", label: "repeat-failure rate", color: "#d62728" },
  { key: "regression_kept", label: "regression kept", color: "#9467bd" },
] as const;

const escapeXml = (text: string) => text.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]!);
const pct = (value: number) => `${Math.round(value * 1000) / 10} %`;

/**
 * An SVG of the results: rates per cycle (cycle 0 = baseline, where only traffic and eval success exist) on the
 * left; harvested/accepted items, training and cycle seconds per cycle in a table on the right.
 */
export function renderChart({ results, title }: { results: ImproveResults; title: string }): string {
  const width = 900;
  const height = 420;
  const plot = { x: 60, y: 50, w: 460, h: 300 };
  const cycles = results.cycles.length;
  const xAt = (cycle: number) => plot.x + (cycles === 0 ? plot.w / 2 : (cycle / cycles) * plot.w);
  const yAt = (value: number) => plot.y + plot.h - Math.max(0, Math.min(1, value)) * plot.h;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  parts.push(`<text x="${plot.x}" y="24" font-size="15" font-weight="bold">${escapeXml(title)}</text>`);
  for (let tick = 0; tick <= 10; tick += 2) {
    const y = yAt(tick / 10);
    parts.push(`<line x1="${plot.x}" x2="${plot.x + plot.w}" y1="${y}" y2="${y}" stroke="#ddd"/>`, `<text x="${plot.x - 8}" y="${y + 4}" text-anchor="end">${tick * 10} %</text>`);
  }
  for (let cycle = 0; cycle <= cycles; cycle++) parts.push(`<text x="${xAt(cycle)}" y="${plot.y + plot.h + 18}" text-anchor="middle">${cycle === 0 ? "baseline" : `cycle ${cycle}`}</text>`);
  parts.push(`<line x1="${plot.x}" x2="${plot.x}" y1="${plot.y}" y2="${plot.y + plot.h}" stroke="#333"/>`, `<line x1="${plot.x}" x2="${plot.x + plot.w}" y1="${plot.y + plot.h}" y2="${plot.y + plot.h}" stroke="#333"/>`);
  SERIES.forEach((series, index) => {
    const points: Array<[number, number]> = [];
    if (series.key === "traffic_success" || series.key === "eval_success") points.push([0, results.baseline[series.key]]);
    for (const row of results.cycles) points.push([row.cycle, row[series.key]]);
    if (points.length > 1) parts.push(`<polyline fill="none" stroke="${series.color}" stroke-width="2" points="${points.map(([c, v]) => `${xAt(c)},${yAt(v)}`).join(" ")}"/>`);
    for (const [c, v] of points) parts.push(`<circle cx="${xAt(c)}" cy="${yAt(v)}" r="4" fill="${series.color}"><title>${series.label}: ${pct(v)}</title></circle>`);
    const ly = plot.y + plot.h + 40 + Math.floor(index / 2) * 16;
    const lx = plot.x + (index % 2) * 220;
    parts.push(`<rect x="${lx}" y="${ly - 9}" width="12" height="4" fill="${series.color}"/>`, `<text x="${lx + 18}" y="${ly - 4}">${series.label}</text>`);
  });
  const tx = 560;
  const columns = ["cycle", "harvested", "accepted", "train s", "cycle s"];
  parts.push(`<text x="${tx}" y="${plot.y + 4}" font-weight="bold">${columns.map((c, i) => `<tspan x="${tx + i * 66}">${c}</tspan>`).join("")}</text>`);
  results.cycles.forEach((row, index) => {
    const cells = [row.cycle, row.harvested, row.accepted, row.training_seconds, row.cycle_seconds].map(String);
    parts.push(`<text x="${tx}" y="${plot.y + 24 + index * 18}">${cells.map((c, i) => `<tspan x="${tx + i * 66}">${escapeXml(c)}</tspan>`).join("")}</text>`);
  });
  parts.push(`</svg>`);
  return parts.join("\n") + "\n";
}
