/** What the morning report's SVG draws: the loss per epoch and the night's funnel counts. */
export interface ReportChartInput {
  /** Mean loss per epoch, in epoch order (empty: no adapter was trained). */
  loss: ReadonlyArray<{ epoch: number; loss: number }>;
  bars: ReadonlyArray<{ label: string; value: number }>;
}

const WIDTH = 640;
const HEIGHT = 240;
const PANEL = { top: 30, bottom: 200 };

const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3));

/** The loss curve (left) and the funnel bar chart (right), as one standalone SVG document. */
export function renderReportSvg({ loss, bars }: ReportChartInput): string {
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    ...lossPanel(loss, { left: 50, right: 300 }),
    ...barPanel(bars, { left: 360, right: 620 }),
    "</svg>",
  ];
  return parts.join("\n") + "\n";
}

function lossPanel(loss: ReportChartInput["loss"], { left, right }: { left: number; right: number }): string[] {
  const out = [`<text x="${left}" y="18" font-weight="bold">Training loss per epoch</text>`];
  out.push(`<line x1="${left}" y1="${PANEL.bottom}" x2="${right}" y2="${PANEL.bottom}" stroke="#444"/>`, `<line x1="${left}" y1="${PANEL.top}" x2="${left}" y2="${PANEL.bottom}" stroke="#444"/>`);
  if (loss.length === 0) {
    out.push(`<text x="${(left + right) / 2}" y="${(PANEL.top + PANEL.bottom) / 2}" text-anchor="middle" fill="#666">no adapter trained</text>`);
    return out;
  }
  const values = loss.map((point) => point.loss);
  const max = Math.max(...values);
  const min = Math.min(0, ...values);
  const span = max - min || 1;
  const x = (i: number) => (loss.length === 1 ? (left + right) / 2 : left + ((right - left) * i) / (loss.length - 1));
  const y = (value: number) => PANEL.bottom - ((PANEL.bottom - PANEL.top) * (value - min)) / span;
  const points = loss.map((point, i) => `${x(i).toFixed(1)},${y(point.loss).toFixed(1)}`).join(" ");
  out.push(`<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${points}"/>`);
  for (const [i, point] of loss.entries()) out.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(point.loss).toFixed(1)}" r="3" fill="#1f77b4"><title>epoch ${point.epoch}: ${fmt(point.loss)}</title></circle>`);
  out.push(
    `<text x="${left - 4}" y="${y(max) + 4}" text-anchor="end">${fmt(max)}</text>`,
    `<text x="${left - 4}" y="${PANEL.bottom + 4}" text-anchor="end">${fmt(min)}</text>`,
    `<text x="${left}" y="${PANEL.bottom + 16}">epoch ${loss[0]!.epoch}</text>`,
    `<text x="${right}" y="${PANEL.bottom + 16}" text-anchor="end">epoch ${loss.at(-1)!.epoch}</text>`,
  );
  return out;
}

function barPanel(bars: ReportChartInput["bars"], { left, right }: { left: number; right: number }): string[] {
  const out = [`<text x="${left}" y="18" font-weight="bold">Tonight</text>`, `<line x1="${left}" y1="${PANEL.bottom}" x2="${right}" y2="${PANEL.bottom}" stroke="#444"/>`];
  const max = Math.max(1, ...bars.map((bar) => bar.value));
  const slot = (right - left) / Math.max(1, bars.length);
  const colours = ["#7f7f7f", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e"];
  for (const [i, bar] of bars.entries()) {
    const height = ((PANEL.bottom - PANEL.top - 14) * bar.value) / max;
    const x = left + i * slot + slot * 0.15;
    const top = PANEL.bottom - height;
    out.push(
      `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${height.toFixed(1)}" fill="${colours[i % colours.length]}"/>`,
      `<text x="${(x + slot * 0.35).toFixed(1)}" y="${(top - 3).toFixed(1)}" text-anchor="middle">${bar.value}</text>`,
      `<text x="${(x + slot * 0.35).toFixed(1)}" y="${PANEL.bottom + 14}" text-anchor="middle">${escapeXml(bar.label)}</text>`,
    );
  }
  return out;
}
