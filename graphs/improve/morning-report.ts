import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { renderReportSvg } from "./report-svg.js";
import { readRunFolder, type RunFolder } from "./run-folder.js";

/** The morning report's facts (what `council report --json` prints); `renderReport` lays them out. */
export interface MorningReport {
  runId: string;
  outcome: string | null;
  reasons: string[];
  version: string | null;
  window: { since: string; until: string } | null;
  endedAt: string | null;
  harvest: { failures: number; rated: number; categories: Array<{ category: string; count: number }>; filtered: Array<{ name: string; dropped: number }> };
  vote: {
    voted: number;
    accepted: number;
    rejected: number;
    topRejections: Array<{ reason: string; count: number }>;
    acceptedExamples: Array<{ question: string; answer: string; source: string; score: number }>;
    rejectedExamples: Array<{ question: string; reason: string }>;
  };
  memory: { candidates: number; released: number; release: string | null; status: string | null; dropped: Array<{ question: string; reason: string }> } | null;
  training: { examples: number | null; epochs: number | null; firstLoss: number | null; lastLoss: number | null; seconds: number; curve: Array<{ epoch: number; loss: number }>; scope: { questions: number; minSimilarity: number; keep?: number } | null } | null;
  gate: { passed: boolean; reasons: string[]; current: string | null; metrics: GateMetricRow[]; cost: { unit: string; candidate: number; current: number; candidateMs: number; currentMs: number; ratio: number | null; maxRatio: number; compared: number | null; passed: boolean; reason: string } | null; suites: Array<{ suite: string; total: number; candidate: number; current: number; passed: boolean; reason: string }> } | null;
  canary: { outcome: string; reason: string; windows: Array<{ step: number; weight: number; at: string; verdict: string; reason: string; metrics: Array<{ metric: string; verdict: string }> }> } | null;
  /** What an operator should look at, most important first. */
  attention: string[];
  problems: string[];
}

/** One row of the gate table: a metric of the six-metric gate (the four suites, latency, cost, satisfaction). */
export interface GateMetricRow {
  metric: string;
  /** Cases (suites, cost: those both answer right) or answers (latency) behind the values; null when not counted. */
  cases: number | null;
  candidate: number | null;
  current: number | null;
  unit: string | null;
  bar: string | null;
  passed: boolean | null;
  reason: string;
}

type GateFile = NonNullable<RunFolder["gate"]>;

/** The gate table from gate.json: its per-metric verdicts, or (gate reports before them) the suites and the cost block. */
function gateMetricRows(gate: GateFile): GateMetricRow[] {
  const suite = new Map(gate.suites.map((s) => [s.suite, s]));
  const answers = gate.suites.reduce((sum, s) => sum + s.total, 0);
  const casesOf = (metric: string) => (suite.has(metric) ? suite.get(metric)!.total : metric === "latency" ? answers : metric === "cost" ? (gate.cost?.compared?.cases ?? null) : null);
  if (gate.metrics !== undefined) {
    return gate.metrics.map((m) => ({ metric: m.metric, cases: casesOf(m.metric), candidate: m.candidate ?? null, current: m.current ?? null, unit: m.unit ?? null, bar: m.bar ?? null, passed: m.passed, reason: m.reason }));
  }
  const rows: GateMetricRow[] = gate.suites.map((s) => ({ metric: s.suite, cases: s.total, candidate: s.total === 0 ? null : s.successCandidate, current: s.total === 0 ? null : s.successCurrent, unit: "share", bar: null, passed: s.total === 0 ? null : s.passed, reason: s.reason }));
  const cost = gate.cost;
  if (cost) rows.push({ metric: "cost", cases: cost.compared?.cases ?? null, candidate: cost.compared?.candidate ?? cost.candidate.perAnswer, current: cost.compared?.current ?? cost.current.perAnswer, unit: cost.unit, bar: `≤ ${cost.maxRatio} × current`, passed: cost.passed, reason: cost.reason });
  return rows;
}

const EXAMPLES = 3;
const iso = (ms: number) => new Date(ms).toISOString();
/** Groups vote reasons that differ only by candidate ids and numbers. */
const reasonPattern = (reason: string) => reason.replace(/candidate \S+/g, "candidate").replace(/\d+(\.\d+)?/g, "N");
const shorten = (text: string, max = 100) => {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function countBy<T>(values: readonly T[], key: (value: T) => string): Array<{ key: string; count: number }> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(key(value), (counts.get(key(value)) ?? 0) + 1);
  return [...counts].map(([k, count]) => ({ key: k, count })).sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

/** The facts of one night, from its run folder. Pure: the same folder gives the same report. */
export function summarizeRun(folder: RunFolder): MorningReport {
  const { summary, harvest, candidates, ballots, memoryGate, release, gate, training, dataset, canary } = folder;
  const questionOf = new Map((candidates ?? []).map((item) => [item.itemId, item.question]));
  const candidateById = new Map((candidates ?? []).flatMap((item) => item.candidates).map((candidate) => [candidate.id, candidate]));
  const decisions = ballots ?? [];
  const accepted = decisions.filter((d) => d.accepted);
  const rejected = decisions.filter((d) => !d.accepted);
  const weakestBallot = (d: (typeof decisions)[number]) => d.ballots.filter((b) => b.candidateId === d.winnerId).sort((a, b) => a.score - b.score)[0];

  const memoryInfo = release?.memory ?? summary?.memory ?? null;
  const memory = memoryInfo ?? (memoryGate ? { candidates: memoryGate.kept.length + memoryGate.dropped.length, released: 0, release: null, status: null, dropped: memoryGate.dropped } : null);

  const curve = (training?.lossCurve ?? []).map(({ epoch, loss }) => ({ epoch, loss }));
  const trained = training !== null || (summary !== null && summary.trainingSeconds > 0);
  const report: MorningReport = {
    runId: folder.runId,
    outcome: summary?.outcome ?? null,
    reasons: summary?.reasons ?? [],
    version: summary?.version ?? null,
    window: summary ? { since: iso(summary.since), until: iso(summary.until) } : null,
    endedAt: summary ? iso(summary.endedAt) : null,
    harvest: {
      failures: harvest?.items.length ?? summary?.harvested ?? 0,
      rated: harvest?.rated ?? 0,
      categories: countBy(harvest?.items ?? [], (item) => item.category ?? "uncategorised").map(({ key, count }) => ({ category: key, count })),
      filtered: (harvest?.filters ?? []).filter((filter) => filter.dropped > 0),
    },
    vote: {
      voted: decisions.length,
      accepted: accepted.length,
      rejected: rejected.length,
      topRejections: countBy(rejected, (d) => reasonPattern(d.reason)).slice(0, 5).map(({ key, count }) => ({ reason: key, count })),
      acceptedExamples: accepted.slice(0, EXAMPLES).map((d) => {
        const winner = d.winnerId === null ? undefined : candidateById.get(d.winnerId);
        return { question: questionOf.get(d.itemId) ?? d.itemId, answer: winner?.text ?? "(winning answer not recorded)", source: winner?.source ?? "unknown", score: d.winnerScore };
      }),
      rejectedExamples: rejected.slice(0, EXAMPLES).map((d) => {
        const weakest = weakestBallot(d);
        return { question: questionOf.get(d.itemId) ?? d.itemId, reason: weakest ? `${d.reason} (lowest: ${weakest.voter} ${weakest.score.toFixed(2)}: ${weakest.reason})` : d.reason };
      }),
    },
    memory: memory && { candidates: memory.candidates, released: memory.released, release: memory.release, status: memory.status, dropped: memory.dropped },
    training: trained
      ? {
          examples: training?.dataset.examples ?? dataset?.counts.sft ?? summary?.datasetExamples ?? null,
          epochs: training?.hyperparameters.epochs ?? null,
          firstLoss: curve[0]?.loss ?? null,
          lastLoss: curve.at(-1)?.loss ?? summary?.finalLoss ?? null,
          seconds: training?.durationSeconds ?? summary?.trainingSeconds ?? 0,
          curve,
          scope: training?.scope ?? null,
        }
      : null,
    gate: gate && {
      passed: gate.passed,
      reasons: gate.reasons,
      current: gate.current ?? null,
      metrics: gateMetricRows(gate),
      cost: gate.cost ? { unit: gate.cost.unit, candidate: gate.cost.candidate.perAnswer, current: gate.cost.current.perAnswer, candidateMs: gate.cost.candidate.latencyMsPerAnswer, currentMs: gate.cost.current.latencyMsPerAnswer, ratio: gate.cost.ratio, maxRatio: gate.cost.maxRatio, compared: gate.cost.compared?.cases ?? null, passed: gate.cost.passed, reason: gate.cost.reason } : null,
      suites: gate.suites.map((s) => ({ suite: s.suite, total: s.total, candidate: s.successCandidate, current: s.successCurrent, passed: s.passed, reason: s.reason })),
    },
    canary: canary && { outcome: canary.outcome, reason: canary.reason, windows: canary.windows.map(({ step, weight, at, verdict, reason, metrics }) => ({ step, weight, at, verdict, reason, metrics: (metrics ?? []).map((m) => ({ metric: m.metric, verdict: m.verdict })) })) },
    attention: [],
    problems: folder.problems,
  };
  report.attention = attentionItems(report);
  return report;
}

/** What an operator should look at, derived from the facts. */
function attentionItems(report: MorningReport): string[] {
  const out: string[] = [];
  const { outcome, gate, canary, memory, vote, training, harvest } = report;
  if (outcome === null) out.push("summary.json is missing: the run has not finished (or crashed before its end); `council nightly --once` resumes it.");
  if (outcome === "failed") out.push(`The run failed: ${report.reasons.join("; ") || "no reason recorded"}. Check the logs for run ${report.runId}.`);
  if (outcome === "awaiting-approval") out.push(`The adapter waits for a decision: \`council approve ${report.runId}\` (or reject) after reading the gate table.`);
  for (const suite of gate?.suites.filter((s) => !s.passed) ?? []) out.push(`Gate suite ${suite.suite} failed: ${suite.reason}. The adapter did not ship.`);
  for (const reason of gate?.reasons.filter((r) => r.startsWith("latency") || r.startsWith("cost")) ?? []) out.push(`Gate ${reason}.`);
  if (outcome === "rolled-back") out.push(`The canary was rolled back: ${canary?.reason ?? report.reasons.join("; ")}.${memory?.status === "withdrawn" ? ` Its ${memory.released} verified entr(ies) were withdrawn with it.` : ""}`);
  if (outcome === "rejected") out.push(`An operator rejected the adapter: ${report.reasons.join("; ")}.`);
  if (memory && memory.dropped.length > 0) out.push(`${memory.dropped.length} verified entr(ies) dropped by their own gate (see Verified memory): check whether the answer or the eval case is wrong.`);
  if (vote.voted > 0 && vote.rejected > vote.accepted) out.push(`The vote rejected ${vote.rejected} of ${vote.voted} rewrites${vote.topRejections[0] ? ` (mostly: ${vote.topRejections[0].reason})` : ""}: the knowledge base may not cover ${harvest.categories[0] ? `the top failure category (${harvest.categories[0].category})` : "these questions"}.`);
  if (training && training.firstLoss !== null && training.lastLoss !== null && training.curve.length > 1 && training.lastLoss >= training.firstLoss) out.push(`Training loss did not fall (${training.firstLoss.toFixed(3)} → ${training.lastLoss.toFixed(3)}): check the dataset and the learning rate.`);
  for (const problem of report.problems) out.push(`Unreadable run file: ${problem}.`);
  return out;
}

/** The morning report of one run folder: one page of markdown and an SVG chart (loss curve, night's funnel). Pure. */
export function renderReport(folder: RunFolder): { markdown: string; svg: string; report: MorningReport } {
  const report = summarizeRun(folder);
  const svg = renderReportSvg({
    loss: report.training?.curve ?? [],
    bars: [
      { label: "harvested", value: report.harvest.failures + report.harvest.rated },
      { label: "accepted", value: report.vote.accepted },
      { label: "rejected", value: report.vote.rejected },
      { label: "verified released", value: report.memory?.released ?? 0 },
    ],
  });
  return { markdown: renderMarkdown(report), svg, report };
}

const cell = (text: string, max = 120) => shorten(text, max).replace(/\|/g, "\\|");

/** A gate value in its unit: shares as percentages, latency in ms, cost per answer in tokens or characters. */
function value(amount: number | null, unit: string | null): string {
  if (amount === null) return "—";
  if (unit === "share") return pct(amount);
  if (unit === "ms") return `${amount.toFixed(0)} ms`;
  if (unit === "tokens" || unit === "characters") return `${amount.toFixed(1)} ${unit}`;
  return String(amount);
}
const verdictCell = (passed: boolean | null) => (passed === null ? "no verdict" : passed ? "pass" : "**FAIL**");

function renderMarkdown(r: MorningReport): string {
  const lines: string[] = [`# Morning report: ${r.runId}`, ""];
  const headline = r.outcome === null ? "**unfinished**" : `**${r.outcome}**${r.version ? ` (adapter ${r.version})` : ""}`;
  lines.push(`Outcome: ${headline}${r.window ? ` · failures from ${r.window.since} to ${r.window.until}` : ""}${r.endedAt ? ` · ended ${r.endedAt}` : ""}`);
  for (const reason of r.reasons) lines.push(`- ${reason}`);
  lines.push("", "![loss curve and tonight's counts](report.svg)", "", "## What to look at", "");
  lines.push(...(r.attention.length > 0 ? r.attention.map((item) => `- ${item}`) : ["- Nothing needs attention."]));

  lines.push("", "## Harvest", "");
  const categories = r.harvest.categories.slice(0, 5).map((c) => `${c.category} ${c.count}`).join(", ");
  lines.push(`${r.harvest.failures} failed question(s) harvested${r.harvest.rated > 0 ? `, ${r.harvest.rated} 👍-rated answer(s) to verify` : ""}${categories ? `; top failure categories: ${categories}` : ""}.`);
  if (r.harvest.filtered.length > 0) lines.push(`Left out by the harvest filters: ${r.harvest.filtered.map((f) => `${f.name} ${f.dropped}`).join(", ")}.`);

  lines.push("", "## Vote", "");
  if (r.vote.voted === 0) lines.push("Nothing was voted on.");
  else {
    lines.push(`${r.vote.accepted} accepted, ${r.vote.rejected} rejected (of ${r.vote.voted}).`);
    if (r.vote.topRejections.length > 0) lines.push(`Top rejection reasons: ${r.vote.topRejections.map((t) => `"${t.reason}" ×${t.count}`).join("; ")}.`);
    if (r.vote.acceptedExamples.length > 0) {
      lines.push("", "| accepted question | winning answer | source | score |", "|---|---|---|---|");
      for (const e of r.vote.acceptedExamples) lines.push(`| ${cell(e.question)} | ${cell(e.answer)} | ${e.source} | ${e.score.toFixed(2)} |`);
    }
    if (r.vote.rejectedExamples.length > 0) {
      lines.push("", "| rejected question | why |", "|---|---|");
      for (const e of r.vote.rejectedExamples) lines.push(`| ${cell(e.question)} | ${cell(e.reason, 240)} |`);
    }
  }

  lines.push("", "## Verified memory", "");
  if (r.memory === null) lines.push("Verified memory was not part of this run.");
  else {
    lines.push(`${r.memory.released} of ${r.memory.candidates} entr(ies) released${r.memory.release ? ` as ${r.memory.release}` : ""}${r.memory.status ? ` (status ${r.memory.status})` : ""}; ${r.memory.dropped.length} dropped by their own gate.`);
    for (const d of r.memory.dropped.slice(0, 5)) lines.push(`- dropped "${shorten(d.question, 80)}": ${shorten(d.reason, 160)}`);
  }

  lines.push("", "## Training", "");
  if (r.training === null) lines.push("No adapter was trained tonight.");
  else {
    const t = r.training;
    const loss = t.firstLoss !== null && t.lastLoss !== null ? `loss ${t.firstLoss.toFixed(3)} → ${t.lastLoss.toFixed(3)}` : t.lastLoss !== null ? `final loss ${t.lastLoss.toFixed(3)}` : "loss not recorded";
    lines.push(`${t.examples ?? "?"} example(s), ${t.epochs ?? "?"} epoch(s), ${loss}, ${t.seconds.toFixed(1)} s.`);
    lines.push(t.scope === null ? "Scope: every question (the adapter file has no scope)." : `Scope: the ${t.scope.questions} question(s) it was trained to fix, and questions at least ${t.scope.minSimilarity} similar to one (word bigrams) and nearer to it than to the ${t.scope.keep ?? 0} that already passed; the base model answers the rest.`);
  }

  lines.push("", "## Gate", "");
  if (r.gate === null) lines.push("The adapter gate did not run.");
  else {
    lines.push(`${r.gate.passed ? "Passed" : "Failed"}${r.gate.current ? `, compared with ${r.gate.current}` : ""}.`, "", "| metric | cases | candidate | current | bar | verdict | reason |", "|---|---|---|---|---|---|---|");
    for (const m of r.gate.metrics) lines.push(`| ${m.metric} | ${m.cases ?? "—"} | ${value(m.candidate, m.unit)} | ${value(m.current, m.unit)} | ${m.bar === null ? "—" : cell(m.bar)} | ${verdictCell(m.passed)} | ${cell(m.reason, 240)} |`);
    // Gate reports written before per-metric verdicts have no latency row: keep its reason.
    if (!r.gate.metrics.some((m) => m.metric === "latency")) for (const reason of r.gate.reasons.filter((x) => x.startsWith("latency"))) lines.push("", `Also: ${reason}`);
    const cost = r.gate.cost;
    if (cost) lines.push("", `Cost per answer: candidate ${cost.candidate.toFixed(1)} ${cost.unit}, ${cost.candidateMs.toFixed(0)} ms; current ${cost.current.toFixed(1)} ${cost.unit}, ${cost.currentMs.toFixed(0)} ms; ratio ${cost.ratio === null ? "n/a" : cost.ratio.toFixed(2)}${cost.compared === null ? "" : ` on ${cost.compared} case(s) both answer right`} (bar ${cost.maxRatio}): ${cost.passed ? "passed" : "**failed**"}.`);
  }

  lines.push("", "## Canary", "");
  if (r.canary === null) lines.push(r.version ? "No canary record in this run folder." : "No canary ran.");
  else {
    lines.push(`${r.canary.outcome}: ${r.canary.reason}`);
    if (r.canary.windows.length > 0) {
      lines.push("", "| step | weight | at | verdict | metrics | reason |", "|---|---|---|---|---|---|");
      for (const w of r.canary.windows) lines.push(`| ${w.step} | ${w.weight}% | ${w.at} | ${w.verdict} | ${w.metrics.length === 0 ? "—" : w.metrics.map((m) => `${m.metric} ${m.verdict}`).join(" · ")} | ${cell(w.reason)} |`);
    }
  }
  return lines.join("\n") + "\n";
}

/** Reads a run folder and writes its `report.md` and `report.svg`; returns the report's facts and its markdown. */
export async function writeRunReport({ runDir }: { runDir: string }): Promise<{ report: MorningReport; markdown: string }> {
  const { markdown, svg, report } = renderReport(await readRunFolder(runDir));
  await writeFile(join(runDir, "report.md"), markdown);
  await writeFile(join(runDir, "report.svg"), svg);
  return { report, markdown };
}
