import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createMetrics, type CouncilMetrics } from "../../core/index.js";
import { VerifiedMemory, type EventInput, type EventSink } from "../../memory/index.js";
import { HashEmbeddings } from "../../models/embeddings/hash-embeddings.js";
import { IMPROVE_NODES } from "./improve-graph.js";
import type { ImprovePorts } from "./ports.js";
import type { GateReport } from "./types.js";
import { resolveApproval, runNightly } from "./run-nightly.js";
import { failures, knownAnswer, setup, turn } from "./test-night.js";

describe("improvement graph", () => {
  it("harvests, rewrites, votes, trains, gates, deploys and promotes", async () => {
    const { run, calls, store } = await setup({ turns: failures });
    const summary = await run();
    expect(summary.outcome).toBe("promoted");
    expect(summary.harvested).toBe(2);
    expect(summary.accepted).toBe(2);
    expect(summary.version).toBe("abc123");
    expect(calls.train).toBe(1);
    expect(summary.suites.find((s) => s.suite === "target")).toMatchObject({ total: 2, successCandidate: 1, successCurrent: 0, passed: true });
    expect(await store.state()).toEqual({ lastUntil: summary.until, activeRunId: null });
    expect((await store.accepted()).map((row) => row.example.question).sort()).toEqual(["How do I extract a tar", "how do I list files?"]);
  });

  it("stops at the gate when the adapter does not help, and deploys nothing", async () => {
    const { run, calls } = await setup({ turns: failures, goodAdapter: false });
    const summary = await run();
    expect(summary.outcome).toBe("gate-failed");
    expect(summary.reasons.join()).toMatch(/target: success 0.0% < current 0.0% \+ 3.0%/);
    expect(calls.publish.size).toBe(0);
  });

  it("compares the first adapter with the base through a zero-B twin, so serving any adapter's fixed cost does not fail the latency rule", async () => {
    // an adapter costs 2× per answer on this model; only the candidate knows the answers
    const isCandidate = (path: string | null) => path !== null && path.endsWith(join("adapter", "adapter.gguf"));
    const answer = { answer: async ({ question, adapterPath }: { question: string; adapterPath: string | null }) => ({ text: isCandidate(adapterPath) ? (knownAnswer(question) ?? "ok") : "I do not know", latencyMs: adapterPath === null ? 50 : 100 }) };
    const bare = await setup({ turns: failures, override: { answer } });
    const bareSummary = await bare.run();
    expect(bareSummary.outcome).toBe("gate-failed");
    expect(bareSummary.reasons.join()).toMatch(/latency: p95 100 ms > 1.1 × current 50 ms/);

    const twins: Array<{ candidatePath: string; out: string }> = [];
    const twinned = await setup({
      turns: failures,
      override: {
        answer,
        baselineAdapter: async (options) => {
          twins.push(options);
          await writeFile(options.out, "GGUF twin");
          return options.out;
        },
      },
    });
    const summary = await twinned.run();
    expect(summary.outcome).toBe("promoted");
    expect(twins).toHaveLength(1);
    expect(twins[0]!.candidatePath.endsWith(join("adapter", "adapter.gguf"))).toBe(true);
    expect(twins[0]!.out.endsWith("gate-baseline.gguf")).toBe(true);
    const gate = JSON.parse(await readFile(join(dirname(twins[0]!.out), "gate.json"), "utf8")) as GateReport;
    expect(gate.current).toBe("base model, through a zero-B twin of the candidate");
    expect(gate.suites.find((s) => s.suite === "target")).toMatchObject({ successCandidate: 1, successCurrent: 0, p95LatencyMsCandidate: 100, p95LatencyMsCurrent: 100 });
  });

  it("scopes the trained adapter to the accepted questions, and the gate asks the base model outside that scope", async () => {
    const scoped: Array<{ adapterPath: string; questions: readonly string[] }> = [];
    const asked: Array<{ question: string; adapterPath: string | null }> = [];
    const { run } = await setup({
      turns: failures,
      override: {
        scopeAdapter: async (options) => {
          scoped.push(options);
        },
        adapterInScope: async (_path, question) => scoped.some((scope) => scope.questions.includes(question)),
        answer: {
          answer: async ({ question, adapterPath }) => {
            asked.push({ question, adapterPath });
            return { text: adapterPath !== null ? (knownAnswer(question) ?? "ok") : "I do not know", latencyMs: 1 };
          },
        },
      },
    });
    const summary = await run();
    expect(summary.outcome).toBe("promoted");
    expect(scoped).toHaveLength(1);
    expect(scoped[0]!.adapterPath.endsWith(join("adapter", "adapter.gguf"))).toBe(true);
    expect([...scoped[0]!.questions].sort()).toEqual(["How do I extract a tar", "how do I list files?"]);
    const outside = asked.filter(({ question }) => !scoped[0]!.questions.includes(question) && question !== "how do I list files"); // the probe is not scoped
    expect(outside.length).toBeGreaterThan(0);
    expect(outside.every(({ adapterPath }) => adapterPath === null)).toBe(true);
  });

  it("ends with nothing to do when there are no failures, and moves the window", async () => {
    const { run, calls, store } = await setup({ turns: [failures[3]!] });
    const summary = await run();
    expect(summary.outcome).toBe("nothing-to-do");
    expect(calls.train).toBe(0);
    expect((await store.state()).lastUntil).toBe(summary.until);
  });

  it.each(IMPROVE_NODES.filter((node) => node !== "approve").flatMap((node) => [`${node}:start`, `${node}:end`]))("resumes after a crash at %s without double training or duplicate adapters", async (point) => {
    const { run, calls } = await setup({ turns: failures, crashAt: point });
    await expect(run()).rejects.toThrow(`simulated crash in ${point}`);
    const summary = await run();
    expect(summary.outcome).toBe("promoted");
    expect(calls.train).toBe(1);
    expect(calls.publish.size).toBe(1);
  });

  it("hands training one typed dataset value (folder, manifest sha256, example count), read once even on a resumed night", async () => {
    const handed: Array<Parameters<ImprovePorts["train"]>[0]["dataset"]> = [];
    const train: ImprovePorts["train"] = async ({ dataset, outDir }) => {
      handed.push(dataset);
      await mkdir(outDir, { recursive: true });
      await writeFile(join(outDir, "adapter.gguf"), "GGUF");
      await writeFile(join(outDir, "training.json"), "{}");
      return { finalLoss: 0.5 };
    };
    const { run, runsDir } = await setup({ turns: failures, crashAt: "dataset:end", override: { train } });
    await expect(run()).rejects.toThrow("simulated crash in dataset:end");
    const summary = await run();
    expect(summary.outcome).toBe("promoted");
    const datasetDir = join(runsDir, summary.runId, "dataset");
    const manifest = JSON.parse(await readFile(join(datasetDir, "manifest.json"), "utf8")) as { sha256: string; counts: { sft: number } };
    expect(handed).toEqual([{ dir: datasetDir, sha256: manifest.sha256, examples: 2 }]);
    expect(manifest.counts.sft).toBe(2);
    expect(summary.datasetExamples).toBe(2);
  });

  it("refuses a resumed night whose dataset manifest is corrupt (DATASET_INVALID), instead of training on an unknown dataset", async () => {
    const { run, runsDir, calls } = await setup({ turns: failures, crashAt: "dataset:end" });
    await expect(run()).rejects.toThrow("simulated crash in dataset:end");
    const [runId] = (await readdir(runsDir)).filter((name) => !name.startsWith("."));
    await writeFile(join(runsDir, runId!, "dataset", "manifest.json"), JSON.stringify({ counts: {} }));
    await expect(run()).rejects.toMatchObject({ code: "DATASET_INVALID" });
    expect(calls.train).toBe(0);
  });

  it("pauses for approval under the approve policy, then resumes on the operator's decision", async () => {
    const { run, calls, makeGraph, store, runsDir } = await setup({ turns: failures, policy: "approve" });
    const paused = await run();
    expect(paused.outcome).toBe("awaiting-approval");
    expect(calls.publish.size).toBe(0);
    expect((await store.state()).activeRunId).toBe(paused.runId);
    // A second nightly start while waiting does not start a new run.
    expect((await run()).outcome).toBe("awaiting-approval");
    const done = await resolveApproval({ graph: makeGraph(), store, runsDir, runId: paused.runId, decision: "approve" });
    expect(done.outcome).toBe("promoted");
    expect(calls.train).toBe(1);
    await expect(resolveApproval({ graph: makeGraph(), store, runsDir, runId: paused.runId, decision: "approve" })).rejects.toMatchObject({ code: "RUN_NOT_FOUND" });
  });

  it("records a rejection", async () => {
    const { run, makeGraph, store, runsDir, root } = await setup({ turns: failures, policy: "approve" });
    const paused = await run();
    const done = await resolveApproval({ graph: makeGraph(), store, runsDir, runId: paused.runId, decision: "reject", reason: "not tonight" });
    expect(done).toMatchObject({ outcome: "rejected", reasons: ["not tonight"] });
    expect(existsSync(join(root, "runs", paused.runId, "summary.json"))).toBe(true);
  });
});

describe("improvement graph: verified memory released with the adapter", () => {
  const openVerified = async () => VerifiedMemory.create({ path: join(await mkdtemp(join(tmpdir(), "verified-")), "verified.sqlite"), embeddings: new HashEmbeddings({ dimensions: 256 }) });
  const statuses = async (verified: VerifiedMemory) => (await verified.list()).map((entry) => `${entry.question} → ${entry.status} @${entry.release} (${entry.source})`).sort();

  it("accepted rewrites enter the canary with the adapter and are promoted with it", async () => {
    const verified = await openVerified();
    let duringCanary: string[] = [];
    const { run, runsDir } = await setup({
      turns: failures,
      override: {
        verified,
        canary: async () => {
          duringCanary = await statuses(verified);
          // canary users see them, stable users do not
          expect((await verified.search("how do I list files", { visibleTo: { adapterVersion: "abc123" } })).length).toBeGreaterThan(0);
          expect(await verified.search("how do I list files", { visibleTo: { adapterVersion: null } })).toEqual([]);
          return { outcome: "promoted", reason: "canary healthy" };
        },
      },
    });
    const summary = await run();
    expect(summary.outcome).toBe("promoted");
    expect(duringCanary).toEqual(["How do I extract a tar → canary @abc123 (agent0)", "how do I list files? → canary @abc123 (agent0)"]);
    expect(await statuses(verified)).toEqual(["How do I extract a tar → active @abc123 (agent0)", "how do I list files? → active @abc123 (agent0)"]);
    expect(summary.memory).toMatchObject({ candidates: 2, released: 2, release: "abc123", status: "active" });
    const gate = JSON.parse(await readFile(join(runsDir, summary.runId, "gate.json"), "utf8")) as { released: unknown };
    expect(gate.released).toEqual({ adapter: true, memory: true, entries: 2 });
    await verified.dispose();
  });

  it("a canary rollback withdraws the entries it brought", async () => {
    const verified = await openVerified();
    const { run } = await setup({ turns: failures, override: { verified, canary: async () => ({ outcome: "rolled-back", reason: "canary 0% < 85%" }) } });
    const summary = await run();
    expect(summary.outcome).toBe("rolled-back");
    expect(await statuses(verified)).toEqual(["How do I extract a tar → withdrawn @abc123 (agent0)", "how do I list files? → withdrawn @abc123 (agent0)"]);
    expect(await verified.search("how do I list files", { visibleTo: { adapterVersion: "abc123" } })).toEqual([]);
    await verified.dispose();
  });

  it("when the gate stops the adapter, entries that pass their own gate are still released (memory only), and gate.json says which parts", async () => {
    const verified = await openVerified();
    const { run, runsDir, calls } = await setup({ turns: failures, goodAdapter: false, override: { verified } });
    const summary = await run();
    expect(summary.outcome).toBe("gate-failed");
    expect(calls.publish.size).toBe(0);
    expect(summary.memory).toMatchObject({ released: 2, release: `memory:${summary.runId}`, status: "active" });
    expect(summary.reasons.join()).toMatch(/verified memory: released 2/);
    const gate = JSON.parse(await readFile(join(runsDir, summary.runId, "gate.json"), "utf8")) as { released: unknown };
    expect(gate.released).toEqual({ adapter: false, memory: true, entries: 2 });
    expect((await verified.search("how do i list files", { visibleTo: { adapterVersion: null } }))[0]!.entry.answer).toBe("Use ls -la to list files.");
    await verified.dispose();
  });

  it("channels=memory: no training, the accepted answers are verified at once", async () => {
    const verified = await openVerified();
    const { run, calls } = await setup({ turns: failures, channels: ["memory"], override: { verified } });
    const summary = await run();
    expect(summary.outcome).toBe("memory-only");
    expect(calls.train).toBe(0);
    expect(await statuses(verified)).toEqual([`How do I extract a tar → active @memory:${summary.runId} (agent0)`, `how do I list files? → active @memory:${summary.runId} (agent0)`]);
    await verified.dispose();
  });

  it("channels=adapter: nothing enters verified memory", async () => {
    const verified = await openVerified();
    const { run } = await setup({ turns: failures, channels: ["adapter"], override: { verified } });
    expect((await run()).outcome).toBe("promoted");
    expect(await verified.list()).toEqual([]);
    await verified.dispose();
  });

  it("a 👍 alone verifies nothing: the council votes on rated answers, and only what it accepts is verified (source rated)", async () => {
    const verified = await openVerified();
    const rated = [
      turn({ traceId: "r1", question: "What is the VPN address", answer: "Connect to vpn.example.com with the VPN client.", success: true, score: 0.9, feedback: { rating: 1, at: 1 }, createdAt: 5_000 }),
      turn({ traceId: "r2", question: "How do I reboot", answer: "Run `rm -rf /`", success: true, score: 0.9, feedback: { rating: 1, at: 1 }, createdAt: 6_000 }),
    ];
    const votedOn: string[] = [];
    const { run } = await setup({
      turns: rated,
      channels: ["memory"],
      override: {
        verified,
        vote: async (item, candidates) => {
          votedOn.push(`${item.question}: ${candidates.map((c) => c.source).join()}`);
          const accepted = !candidates[0]!.text.includes("rm -rf");
          return { itemId: item.id, accepted, winnerId: candidates[0]!.id, winnerScore: accepted ? 0.8 : 0.1, ballots: [], reason: "vote" };
        },
      },
    });
    const summary = await run();
    expect(votedOn.sort()).toEqual(["How do I reboot: rated", "What is the VPN address: rated"]);
    expect(summary.outcome).toBe("memory-only");
    expect(await statuses(verified)).toEqual([`What is the VPN address → active @memory:${summary.runId} (rated)`]);
    await verified.dispose();
  });
});

describe("improvement graph: replay of passing answers", () => {
  const rated = [
    turn({ traceId: "r1", question: "What is the VPN address", answer: "Connect to vpn.example.com.", success: true, score: 0.9, feedback: { rating: 1, at: 1 }, createdAt: 5_000 }),
    turn({ traceId: "r2", question: "How do I reboot", answer: "Run `rm -rf /`", success: true, score: 0.9, feedback: { rating: 1, at: 1 }, createdAt: 6_000 }),
    turn({ traceId: "r3", question: "How do I see disk usage", answer: "Run `du -sh *`.", success: true, score: 0.9, feedback: { rating: 1, at: 1 }, createdAt: 7_000 }),
  ];
  const votingOn = (votedOn: string[]): Partial<ImprovePorts> => ({
    vote: async (item, candidates) => {
      votedOn.push(`${item.question}: ${candidates.map((c) => c.source).join()}`);
      const accepted = candidates[0]!.text !== "unknown" && !candidates[0]!.text.includes("rm -rf");
      return { itemId: item.id, accepted, winnerId: candidates[0]!.id, winnerScore: accepted ? 0.8 : 0.1, ballots: [], reason: "vote" };
    },
  });
  const sftRows = async (runsDir: string, runId: string) =>
    (await readFile(join(runsDir, runId, "dataset", "sft.prompt-completion.jsonl"), "utf8")).trim().split("\n").map((line) => JSON.parse(line) as { prompt: string; completion: string; kind?: string });

  it("adapter only, replayRatio 1: the council votes on the newest ⌈ratio × failures⌉ 👍 answers and the ones it accepts are trained beside the fixes", async () => {
    const votedOn: string[] = [];
    const { run, runsDir, store, calls } = await setup({ turns: [...failures, ...rated], channels: ["adapter"], replayRatio: 1, override: votingOn(votedOn) });
    const summary = await run();
    expect(summary.outcome).toBe("promoted");
    expect(calls.train).toBe(1);
    expect(votedOn.filter((v) => v.endsWith(": rated")).sort()).toEqual(["How do I reboot: rated", "How do I see disk usage: rated"]);
    const rows = await sftRows(runsDir, summary.runId);
    expect(rows.filter((row) => row.kind === "replay").map((row) => row.completion)).toEqual(["Run `du -sh *`.\n###"]);
    expect(rows.filter((row) => row.kind === undefined)).toHaveLength(2);
    expect(rows.find((row) => row.kind === "replay")!.prompt).toContain("How do I see disk usage");
    // replayed answers are not accepted rewrites: they never become regression cases or later nights' fixes
    expect((await store.accepted()).map((row) => row.example.question).sort()).toEqual(["How do I extract a tar", "how do I list files?"]);
  });

  it("replayRatio 0 (the graph's default; config sets training.replayRatio): rated answers are neither voted on nor trained when verified memory is off", async () => {
    const votedOn: string[] = [];
    const { run, runsDir } = await setup({ turns: [...failures, ...rated], channels: ["adapter"], override: votingOn(votedOn) });
    const summary = await run();
    expect(votedOn.filter((v) => v.endsWith(": rated"))).toEqual([]);
    expect((await sftRows(runsDir, summary.runId)).map((row) => row.kind ?? "fix")).toEqual(["fix", "fix"]);
  });

  it("rated answers alone start no adapter night", async () => {
    const { run, calls } = await setup({ turns: rated, channels: ["adapter"], replayRatio: 1 });
    expect((await run()).outcome).toBe("nothing-to-do");
    expect(calls.train).toBe(0);
  });
});

describe("improvement graph: the morning report", () => {
  it("every finished night writes report.md and report.svg beside summary.json, with the canary windows the canary port returned", async () => {
    const windows = [{ step: 0, weight: 10, at: "2026-12-06T02:10:00.000Z", verdict: "pass", reason: "canary 97.0% success over 12 requests" }];
    const { run, runsDir } = await setup({ turns: failures, override: { canary: async () => ({ outcome: "promoted", reason: "canary healthy", windows }) } });
    const summary = await run();
    const runDir = join(runsDir, summary.runId);
    const markdown = await readFile(join(runDir, "report.md"), "utf8");
    expect(markdown).toContain(`# Morning report: ${summary.runId}`);
    expect(markdown).toContain("Outcome: **promoted** (adapter abc123)");
    expect(markdown).toContain("2 failed question(s) harvested; top failure categories: ungrounded 2.");
    expect(markdown).toContain("2 accepted, 0 rejected (of 2).");
    expect(markdown).toContain("| 0 | 10% | 2026-12-06T02:10:00.000Z | pass | — | canary 97.0% success over 12 requests |");
    expect(await readFile(join(runDir, "report.svg"), "utf8")).toContain("<svg ");
  });

  it("a report that cannot be written is logged and does not fail the run", async () => {
    const { makeGraph, store, runsDir } = await setup({ turns: failures });
    const runId = "run-20261206T020000-fail";
    await mkdir(join(runsDir, runId, "report.md"), { recursive: true });
    const logged: string[] = [];
    const logger = pino({ level: "error" }, { write: (line: string) => logged.push(line) });
    const summary = await runNightly({ graph: makeGraph(), store, runsDir, logger, generateRunId: () => runId });
    expect(summary.outcome).toBe("promoted");
    expect(existsSync(join(runsDir, runId, "summary.json"))).toBe(true);
    expect(logged.join()).toContain("morning report not written");
  });
});

describe("improvement graph → event log", () => {
  /** Records what the graph appends (ports.events). */
  const recorder = () => {
    const appended: EventInput[] = [];
    const events: EventSink = { append: async (event) => (appended.push(event), { id: `e${appended.length}`, time: 0, ...event }) };
    return { appended, events };
  };

  it("appends ballots, the dataset's examples with their source turns, training, gate, approval, deploy and promotion", async () => {
    const { appended, events } = recorder();
    const { run } = await setup({ turns: failures, override: { events } });
    const summary = await run();
    expect(summary.outcome).toBe("promoted");
    expect(appended.map((event) => event.type)).toEqual(["vote-cast", "vote-cast", "dataset-built", "training-finished", "gate-judged", "approval-decided", "adapter-deployed", "adapter-promoted"]);
    expect(appended.every((event) => event.actor === "nightly")).toBe(true);
    const votes = appended.filter((event) => event.type === "vote-cast").map((event) => event.payload);
    expect(votes.map((vote) => [vote.traceIds, vote.accepted]).sort()).toEqual([[["t1", "t2"], true], [["t3"], true]]);
    const dataset = appended.find((event) => event.type === "dataset-built")!.payload as { runId: string; examples: Array<{ id: string; traceIds: string[] }> };
    expect(dataset.runId).toBe(summary.runId);
    expect(dataset.examples.flatMap((example) => example.traceIds).sort()).toEqual(["t1", "t2", "t3"]);
    expect(appended.find((event) => event.type === "adapter-deployed")!.payload).toMatchObject({ runId: summary.runId, version: "abc123" });
  });

  it("records the operator who approved a paused run as the approval's actor", async () => {
    const { appended, events } = recorder();
    const { run, makeGraph, store, runsDir } = await setup({ turns: failures, policy: "approve", override: { events } });
    const paused = await run();
    expect(appended.map((event) => event.type)).not.toContain("approval-decided");
    await resolveApproval({ graph: makeGraph(), store, runsDir, runId: paused.runId, decision: "approve", reason: "looks right", actor: "dana" });
    expect(appended.find((event) => event.type === "approval-decided")).toMatchObject({ actor: "dana", payload: { decision: "approve", reason: "looks right", policy: "approve" } });
  });
});

describe("improvement graph: every gate metric's verdict in gate.json and on the dashboard", () => {
  const gateFile = async (runsDir: string, runId: string) => JSON.parse(await readFile(join(runsDir, runId, "gate.json"), "utf8")) as GateReport & { canary?: { outcome: string; metrics: unknown[] } };
  const gauge = async (metrics: CouncilMetrics) => Object.fromEntries((await metrics.registry.getSingleMetric("council_gate_metric_passed")!.get()).values.map((v) => [v.labels.metric, v.value]));

  it("stops an adapter that answers right but costs 2× the tokens and CPU seconds per answer", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    // the candidate knows tonight's answers; both sides answer the safety case safely (the like-for-like case)
    const answer = { answer: async ({ question, adapterPath }: { question: string; adapterPath: string | null }) => (adapterPath !== null ? { text: knownAnswer(question) ?? "ok", latencyMs: 10, tokens: 80, cpuSeconds: 0.8 } : { text: "I do not know", latencyMs: 10, tokens: 40, cpuSeconds: 0.4 }) };
    const { run, runsDir, calls } = await setup({ turns: failures, override: { answer }, metrics });
    const summary = await run();
    expect(summary.outcome).toBe("gate-failed");
    expect(calls.publish.size).toBe(0);
    expect(summary.reasons).toEqual([expect.stringMatching(/^cost: .*80\.0 vs 40\.0 tokens, more than 1\.5 × current \+ 16 tokens; CPU 0\.800 vs 0\.400 s per answer, more than 1\.5 × current \+ 0\.05 s$/)]);
    const gate = await gateFile(runsDir, summary.runId);
    expect(gate.metrics!.map((m) => [m.metric, m.passed])).toEqual([["target", true], ["holdout", null], ["regression", null], ["safety", true], ["latency", true], ["cost", false], ["satisfaction", null]]);
    expect(await gauge(metrics)).toEqual({ target: 1, holdout: -1, regression: -1, safety: 1, latency: 1, cost: 0, satisfaction: -1 });
  });

  it("after a canary whose 👍 share dropped, gate.json's satisfaction holds the canary's verdict", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const reason = "satisfaction: canary 👍 35.0% of 20 ratings, stable 👍 87.5% of 40: more than 10.0 points lower";
    const windowMetrics = [
      { metric: "success", verdict: "pass" as const, reason: "canary 100.0% ≥ 85.0%" },
      { metric: "latency", verdict: "pass" as const, reason: "canary p95 12 ms" },
      { metric: "satisfaction", verdict: "fail" as const, reason },
      { metric: "cost", verdict: "pass" as const, reason: "canary 40.0 tokens" },
    ];
    const canary = async () => ({ outcome: "rolled-back" as const, reason, windows: [{ step: 0, weight: 10, at: "2026-12-06T02:00:00.000Z", verdict: "fail", reason, metrics: windowMetrics }] });
    const { run, runsDir } = await setup({ turns: failures, override: { canary }, metrics });
    const summary = await run();
    expect(summary.outcome).toBe("rolled-back");
    const gate = await gateFile(runsDir, summary.runId);
    expect(gate.passed).toBe(true);
    expect(gate.metrics!.find((m) => m.metric === "satisfaction")).toEqual({ metric: "satisfaction", passed: false, reason: `canary: ${reason}`, bar: "canary 👍 share vs stable" });
    expect(gate.canary).toEqual({ outcome: "rolled-back", reason, windows: 1, metrics: windowMetrics });
    expect((await gauge(metrics)).satisfaction).toBe(0);
  });
});
