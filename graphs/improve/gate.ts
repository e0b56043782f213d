import type { EvalCase, GateMetricVerdict, GateReport, SuiteReport } from "./types.js";
import { judgeAnswer } from "./judge.js";
import { costVerdict, type AnswerCost } from "./gate-cost.js";

export interface AnswerPort {
  /** Answers with the production prompt; `adapterPath` null = the base model. */
  answer(options: { question: string; adapterPath: string | null }): Promise<AnswerCost>;
}

export interface GateSuites {
  /** Tonight's failures with their accepted answers: must improve by minSuccessDelta. */
  target: EvalCase[];
  /** Never trained on: must not get worse. */
  holdout: EvalCase[];
  /** Every question that ever passed: each that passes on current must still pass. */
  regression: EvalCase[];
  /** Must all pass. */
  safety: EvalCase[];
}

export interface GateOptions {
  suites: GateSuites;
  answer: AnswerPort;
  candidatePath: string;
  currentPath: string | null;
  minSuccessDelta: number;
  maxLatencyRatio: number;
  /** Candidate output size and CPU seconds per answer ≤ this × current's (+ COST_SLACK). @default 1.5 */
  maxCostRatio?: number;
  /** Absolute slack on the latency check, so timer noise on tiny latencies cannot fail the gate. @default 25 */
  latencySlackMs?: number;
  probePrompts?: readonly string[];
  /** The canary's satisfaction rule (config improve.canaryMaxSatisfactionDrop, canaryMinRatings), written as the satisfaction metric's bar. */
  satisfaction?: { maxDrop: number; minRatings: number };
  /**
   * Whether an adapter applies to a question (its scope, training/adapter-scope.ts); a case outside it is answered
   * by the base model, as serving answers it. Probes are not scoped: they prove the slot serves the file.
   * @default every adapter applies everywhere
   */
  inScope?: (adapterPath: string, question: string) => Promise<boolean>;
}

type ScopeCheck = NonNullable<GateOptions["inScope"]>;

/** The adapter that answers `question` on serving: `adapterPath`, or the base model (null) outside its scope. */
async function servingPath(adapterPath: string | null, question: string, inScope: ScopeCheck | undefined): Promise<string | null> {
  if (adapterPath === null || inScope === undefined) return adapterPath;
  return (await inScope(adapterPath, question)) ? adapterPath : null;
}

const points = (share: number) => `${(100 * share).toFixed(1)} points`;

/** Each suite's rule, in words, for gate.json and the morning report. */
function suiteBar(name: keyof GateSuites, minSuccessDelta: number): string {
  if (name === "target") return `≥ current + ${points(minSuccessDelta)}`;
  if (name === "holdout") return "≥ current";
  if (name === "regression") return "every case current passes still passes";
  return "every case passes";
}

function p95(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]!;
}

async function runSuite(name: keyof GateSuites, cases: readonly EvalCase[], answer: AnswerPort, candidatePath: string, currentPath: string | null, inScope: ScopeCheck | undefined) {
  const rows: Array<{ testCase: EvalCase; candidate: AnswerCost & { pass: boolean }; current: AnswerCost & { pass: boolean } }> = [];
  for (const testCase of cases) {
    const candidate = await answer.answer({ question: testCase.question, adapterPath: await servingPath(candidatePath, testCase.question, inScope) });
    const current = await answer.answer({ question: testCase.question, adapterPath: await servingPath(currentPath, testCase.question, inScope) });
    rows.push({ testCase, candidate: { ...candidate, pass: judgeAnswer(testCase, candidate.text) }, current: { ...current, pass: judgeAnswer(testCase, current.text) } });
  }
  const passedCandidate = rows.filter((r) => r.candidate.pass).length;
  const passedCurrent = rows.filter((r) => r.current.pass).length;
  const total = rows.length;
  return {
    name,
    rows,
    report: {
      suite: name,
      total,
      passedCandidate,
      passedCurrent,
      successCandidate: total === 0 ? 1 : passedCandidate / total,
      successCurrent: total === 0 ? 1 : passedCurrent / total,
      p95LatencyMsCandidate: p95(rows.map((r) => r.candidate.latencyMs)),
      p95LatencyMsCurrent: p95(rows.map((r) => r.current.latencyMs)),
      passed: true as boolean,
      reason: "",
      failures: rows.filter((r) => !r.candidate.pass).map((r) => ({ id: r.testCase.id, question: r.testCase.question, answer: r.candidate.text })),
    } satisfies SuiteReport,
  };
}

/** A case as a person reads it: the question (quoted, shortened) and its id. */
export function describeCase(testCase: Pick<EvalCase, "id" | "question">): string {
  const question = testCase.question.replace(/\s+/g, " ").trim();
  return `"${question.length > 80 ? `${question.slice(0, 79)}…` : question}" (${testCase.id})`;
}

/**
 * The eval gate. Suites and rules (thresholds from config):
 * - target: candidate success ≥ current success + minSuccessDelta (the "+3 points");
 * - holdout: candidate success ≥ current success;
 * - regression: every case the current adapter passes, the candidate passes too;
 * - safety: the candidate passes every case;
 * - latency: candidate p95 over all suites ≤ maxLatencyRatio × current p95 + latencySlackMs;
 * - cost: on the cases both answer right, candidate mean output tokens (characters when the port reports none)
 *   and CPU seconds (when the port reports them) per answer ≤ maxCostRatio × current's + slack;
 * - satisfaction (👍 share) needs users: no verdict here, the canary analysis judges it on live traffic.
 * Every metric's verdict is in the report's `metrics`.
 */
export async function runGate({ suites, answer, candidatePath, currentPath, minSuccessDelta, maxLatencyRatio, maxCostRatio = 1.5, latencySlackMs = 25, probePrompts = [], satisfaction, inScope }: GateOptions): Promise<GateReport> {
  const results = [];
  for (const [name, cases] of Object.entries(suites) as Array<[keyof GateSuites, EvalCase[]]>) {
    results.push(await runSuite(name, cases, answer, candidatePath, currentPath, inScope));
  }
  // An adapter must not teach a dangerous command anywhere: a scoped one is only asked its own questions, so the
  // safety suite's reject patterns also judge every other candidate answer (a rubber-stamped night's `rm -rf /`).
  const rejects = suites.safety.flatMap((testCase) => testCase.reject ?? []);
  const matchesReject = (text: string) => rejects.some((pattern) => new RegExp(pattern, "i").test(text));
  const unsafe = results.filter(({ name }) => name !== "safety").flatMap(({ rows }) => rows.filter((row) => matchesReject(row.candidate.text) && !matchesReject(row.current.text)).map((row) => row.testCase));
  const reasons: string[] = [];
  for (const { name, rows, report } of results) {
    if (report.total === 0) {
      report.reason = "no cases";
      continue;
    }
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    if (name === "target" && report.successCandidate < report.successCurrent + minSuccessDelta - 1e-9) {
      report.passed = false;
      report.reason = `success ${pct(report.successCandidate)} < current ${pct(report.successCurrent)} + ${pct(minSuccessDelta)}`;
    } else if (name === "holdout" && report.successCandidate < report.successCurrent - 1e-9) {
      report.passed = false;
      report.reason = `success ${pct(report.successCandidate)} fell below current ${pct(report.successCurrent)}`;
    } else if (name === "regression") {
      const lost = rows.filter((r) => r.current.pass && !r.candidate.pass).map((r) => r.testCase);
      if (lost.length > 0) {
        report.passed = false;
        report.reason = `${lost.length} previously passing case(s) now fail: ${lost.slice(0, 10).map(describeCase).join(", ")}`;
      }
    } else if (name === "safety" && (report.passedCandidate < report.total || unsafe.length > 0)) {
      report.passed = false;
      const taught = unsafe.length > 0 ? `${unsafe.length} answer(s) to other suites' cases match a safety reject pattern the current answer does not: ${unsafe.slice(0, 5).map(describeCase).join(", ")}` : "";
      report.reason = [report.passedCandidate < report.total ? `${report.total - report.passedCandidate} unsafe answer(s)` : "", taught].filter(Boolean).join("; ");
    }
    if (!report.passed) reasons.push(`${name}: ${report.reason}`);
    else report.reason = `success ${pct(report.successCandidate)} (current ${pct(report.successCurrent)})`;
  }
  const allCandidate = results.flatMap((r) => r.rows.map((row) => row.candidate.latencyMs));
  const allCurrent = results.flatMap((r) => r.rows.map((row) => row.current.latencyMs));
  const candidateP95 = p95(allCandidate);
  const currentP95 = p95(allCurrent);
  const latencyPassed = allCandidate.length === 0 ? null : candidateP95 <= maxLatencyRatio * currentP95 + latencySlackMs;
  if (latencyPassed === false) reasons.push(`latency: p95 ${candidateP95.toFixed(0)} ms > ${maxLatencyRatio} × current ${currentP95.toFixed(0)} ms`);
  const cost = costVerdict({ pairs: results.flatMap((r) => r.rows), maxRatio: maxCostRatio });
  if (!cost.passed) reasons.push(`cost: ${cost.reason}`);
  const probes = [];
  for (const prompt of probePrompts) probes.push({ prompt, output: (await answer.answer({ question: prompt, adapterPath: candidatePath })).text });
  const metrics: GateMetricVerdict[] = [
    ...results.map(({ name, report }): GateMetricVerdict => ({
      metric: name,
      passed: report.total === 0 ? null : report.passed,
      reason: report.reason,
      ...(report.total === 0 ? {} : { candidate: report.successCandidate, current: report.successCurrent, unit: "share" as const }),
      bar: suiteBar(name, minSuccessDelta),
    })),
    {
      metric: "latency",
      passed: latencyPassed,
      reason: latencyPassed === null ? "no answers" : `p95 ${candidateP95.toFixed(0)} ms vs current ${currentP95.toFixed(0)} ms (bar ${maxLatencyRatio} × current + ${latencySlackMs} ms)`,
      ...(latencyPassed === null ? {} : { candidate: candidateP95, current: currentP95, unit: "ms" as const }),
      bar: `p95 ≤ ${maxLatencyRatio} × current + ${latencySlackMs} ms`,
    },
    {
      metric: "cost",
      passed: cost.compared.cases === 0 ? null : cost.passed,
      reason: cost.reason,
      ...(cost.compared.cases === 0 ? {} : { candidate: cost.compared.candidate, current: cost.compared.current, unit: cost.unit }),
      bar: `≤ ${maxCostRatio} × current + ${cost.slack} ${cost.unit} per answer${cost.cpu ? `, CPU ≤ ${maxCostRatio} × current + ${cost.cpu.slack} s` : ""}`,
    },
    {
      metric: "satisfaction",
      passed: null,
      reason: "no verdict offline: the canary judges 👍 share against stable on live traffic",
      bar: satisfaction === undefined ? "canary 👍 share vs stable" : `canary 👍 share ≥ stable − ${points(satisfaction.maxDrop)}, ${satisfaction.minRatings} ratings per side`,
    },
  ];
  return { passed: reasons.length === 0, reasons, metrics, suites: results.map((r) => r.report), cost, probes };
}
