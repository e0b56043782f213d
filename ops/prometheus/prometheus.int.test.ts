import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_TOPICS } from "../../agents/index.js";
import { loadConfig } from "../../core/index.js";
import { createCouncil, type Council, type CouncilRuntime } from "../../council/index.js";
import { AdapterRegistry, AdapterWatcher, CanaryController, CanaryRouter, PrometheusSource, canaryBucket, type CanaryOutcome, type RollbackSummary } from "../../deploy/index.js";
import { writeTestAdapter } from "../../deploy/test-adapter.js";
import { HashEmbeddings } from "../../models/index.js";
import { DeferredRuntime, userIdForToken } from "../../server/index.js";
import { FakeChatModel, FakeKnowledgeBase, FakeMemoryStore } from "../../test/fakes/index.js";
import { ChatClient, startTestServer, type TestServer } from "../../test/helpers/chat-server.js";
import { havePrometheus, PROMETHEUS_BIN, startPrometheus, type PrometheusServer } from "../../test/helpers/prometheus.js";

/**
 * The canary's analysis through a REAL Prometheus (Debian's /usr/bin/prometheus, loopback only, temp TSDB)
 * scraping a running Council server every second. Chat traffic goes over real WebSockets into the real
 * council (createCouncil: router → answerer → critic, real chat metrics) on a scripted model; users are routed
 * stickily by the real CanaryRouter, fed by the controller and by an AdapterWatcher on the real loras/. The
 * CanaryController reads every window's verdict from PrometheusSource's PromQL. The only scripted part is
 * the model: in the forced-rollback test the canary slot's answers are wrong, so the critic fails them.
 */
if (!havePrometheus) console.warn(`SKIPPED: ${PROMETHEUS_BIN} is missing (npm run setup installs Debian's prometheus package).`);

// 3 s windows over a 1 s scrape: `increase(...[3s])` always spans at least two samples. The latency bar is loose
// (the scripted model answers in ms, but a loaded CI machine queues turns); the forced rollback is on success.
// Satisfaction is judged once each side has 5 ratings (pooled over the canary's windows).
const settings = { canarySteps: [10, 50, 100], canaryIntervalSeconds: 3, canaryMinRequests: 5, canaryMaxErrors: 3, canaryDeadlineSeconds: 40, rollbackMinSuccess: 0.85, rollbackMaxSuccessDrop: 0.05, rollbackMaxP95Ms: 5000, canaryMinRatings: 5, canaryMaxSatisfactionDrop: 0.1 };
const PASSAGES = [{ id: "ls", title: "ls", text: "- List all files, including hidden files:\n\n`ls -a`" }];

let root: string;
let prometheus: PrometheusServer | undefined;
let prometheusUrl: string;
let server: TestServer | undefined;
let council: Council | undefined;
let registry: AdapterRegistry;
let watcher: AdapterWatcher | undefined;
const router = new CanaryRouter();
/** Flipped by the forced-rollback test: the canary slot then answers wrongly and the critic fails it. */
let canaryAnswersWrong = false;
/** Set by the cost test: the canary slot then answers right, but with 15 times the tokens. */
let canaryAnswersLong = false;
const LONG_ANSWER =
  "Run `ls -a`. It lists every entry of the current directory, hidden files included: names that start with a dot, such as .bashrc or .ssh, which plain ls leaves out. Add -l for sizes, owners and dates, or give a path to look somewhere else.";
/** Set by the satisfaction test: how users rate each answer, by the adapter that gave it (null: no rating). */
let rate: (adapter: unknown) => 1 | -1 | null = () => null;

/** Chat tokens whose users land in the 10 % bucket, the 10–50 % band and above 50 %: every step gets canary and stable users. */
const tokens = (() => {
  const picked: string[] = [];
  for (const [low, high] of [[0, 10], [10, 50], [50, 100]] as const) {
    for (let i = 0, found = 0; found < 4; i++) {
      const token = `prom-user-${i}`;
      const bucket = canaryBucket(userIdForToken(token));
      if (bucket >= low && bucket < high && !picked.includes(token)) {
        picked.push(token);
        found++;
      }
    }
  }
  return picked;
})();

async function until<T>(what: string, check: () => Promise<T | undefined>, limitMs = 30_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not within ${limitMs} ms; prometheus log tail:\n${prometheus?.log().slice(-2000) ?? ""}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function publish(salt: string): Promise<string> {
  const path = join(root, `${salt}.gguf`);
  await writeTestAdapter({ path, salt });
  return (await registry.publish({ adapterPath: path, training: {}, evaluation: { probes: [] } })).version;
}

/** The `final` frames the users got: which adapter the server says produced each answer. */
type Finals = Array<{ token: string; adapter: unknown }>;

/** Every client asks in a loop (real WebSocket, one turn at a time) until `stop()`. */
async function startTraffic(): Promise<{ stop(): Promise<void>; finals: Finals }> {
  const clients = await Promise.all(tokens.map((token) => ChatClient.connect(`${server!.wsUrl}?token=${token}`)));
  const finals: Finals = [];
  let running = true;
  const loops = clients.map(async (client, c) => {
    for (let i = 0; running; i++) {
      const { end } = await client.ask(`q-${c}-${i}`, "How do I list hidden files?", {}).catch(() => ({ end: null }));
      if (end?.type === "final") {
        finals.push({ token: tokens[c]!, adapter: end.adapter });
        const rating = rate(end.adapter);
        if (rating !== null) {
          client.send({ type: "feedback", trace_id: end.trace_id, rating });
          await client.next((frame) => frame.type === "feedback-ack" && frame.trace_id === end.trace_id).catch(() => undefined);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
  });
  return {
    finals,
    async stop() {
      running = false;
      await Promise.all(loops);
      await Promise.all(clients.map((client) => client.close()));
    },
  };
}

const source = () => new PrometheusSource({ url: prometheusUrl });
const controller = () =>
  new CanaryController({ registry, source: source(), settings, metrics: council!.metrics, onState: (state) => router.update(state), base: "fake" });

/** Runs one canary under live traffic; traffic goes on for `afterMs` after the verdict (finals from then on: `after`). */
async function runCanary(version: string, afterMs = 0): Promise<{ outcome: CanaryOutcome; finals: Finals; after: Finals }> {
  const traffic = await startTraffic();
  try {
    const outcome = await controller().run({ version });
    const mark = traffic.finals.length + tokens.length; // skip turns that were already running
    await new Promise((resolve) => setTimeout(resolve, afterMs));
    console.log(`canary ${version}: ${outcome.status}; windows:\n${outcome.analyses.map((a) => `  ${a.weight}% ${a.verdict}: ${a.reason}\n${a.metrics.map((m) => `    ${m.metric} ${m.verdict}: ${m.reason}`).join("\n")}`).join("\n")}`);
    return { outcome, finals: traffic.finals, after: traffic.finals.slice(mark) };
  } finally {
    await traffic.stop();
  }
}

/** Series of one metric that Prometheus holds, as label sets. */
async function series(promql: string): Promise<Array<Record<string, string>>> {
  return (await source().query(promql)).map((sample) => sample.metric);
}

beforeAll(async () => {
  if (!havePrometheus) return;
  root = await mkdtemp(join(tmpdir(), "council-prometheus-int-"));
  registry = await AdapterRegistry.create({ config: { dataDir: join(root, "data") } });
  await registry.activate(await publish("stable"), { reason: "setup" });
  watcher = await AdapterWatcher.create({ registry, pollIntervalMs: 250 });
  router.setStable(watcher.current());
  watcher.on("adapter-swapped", ({ version }) => router.setStable(version));
  watcher.on("canary-changed", (state) => router.update(state));

  // The server listens first (as `council serve` does); the council is handed to it once built on the server's metrics.
  let provide!: (runtime: CouncilRuntime) => void;
  server = await startTestServer({ runtime: new DeferredRuntime(new Promise((resolve) => (provide = resolve))), server: { messagesPerMinute: 100_000 } });
  const chatModel = new FakeChatModel({
    modelName: "fake",
    turns: [
      { agent: "router", text: '{"route": "files"}', times: Infinity },
      { agent: "answerer", when: (call) => canaryAnswersWrong && call.adapter === "canary", text: "Use dir.", times: Infinity },
      { agent: "answerer", when: (call) => canaryAnswersLong && call.adapter === "canary", text: LONG_ANSWER, times: Infinity },
      { agent: "answerer", text: "Run `ls -a`.", times: Infinity },
      { agent: "critic", when: (call) => call.text.includes("Use dir."), text: '{"score": 0.1, "category": "ungrounded", "reasons": ["wrong command"]}', times: Infinity },
      { agent: "critic", text: '{"score": 0.9, "category": null, "reasons": ["grounded"]}', times: Infinity },
    ],
  });
  council = await createCouncil({
    config: loadConfig({ env: {}, overrides: { logLevel: "silent", agents: { router: "auto", critic: "auto", criticThreshold: 0.5, maxRevisions: 0 } } }),
    chatModel,
    embeddings: new HashEmbeddings({ dimensions: 64 }),
    memory: new FakeMemoryStore(),
    knowledgeBase: new FakeKnowledgeBase(PASSAGES),
    metrics: server.metrics,
    topics: DEFAULT_TOPICS,
    selectAdapter: ({ userId, sessionId }) => {
      const selection = router.select(userId ?? sessionId);
      return selection.version === null ? null : { slot: selection.slot, version: selection.version };
    },
  });
  provide(council);

  prometheus = await startPrometheus({ dir: root, targets: [new URL(server.httpUrl).host] });
  prometheusUrl = prometheus.url;
  await until("Prometheus scraping the council", async () => ((await source().query('up{job="council"} == 1')).length === 1 ? true : undefined));
}, 120_000);

afterAll(async () => {
  await prometheus?.stop();
  await watcher?.dispose();
  await server?.close(); // disposes the council
  if (root) await rm(root, { recursive: true, force: true });
}, 60_000);

describe.skipIf(!havePrometheus)("canary analysis through a real Prometheus scraping a running Council", () => {
  it("promotes a healthy canary: every window's verdict comes from PromQL over both adapters' series", async () => {
    const stable = (await registry.current())!;
    const canary = await publish("healthy");
    canaryAnswersWrong = false;
    const { outcome, finals } = await runCanary(canary);
    expect(outcome.status).toBe("promoted");
    const passed = outcome.analyses.filter((a) => a.verdict === "pass");
    expect(passed.map((a) => a.weight)).toEqual([10, 50, 100]);
    for (const analysis of passed) {
      expect(analysis.stats!.canary.requests).toBeGreaterThanOrEqual(settings.canaryMinRequests);
      expect(analysis.stats!.canary.successRate).toBe(1);
      expect(analysis.stats!.canary.p95Ms).toBeGreaterThan(0);
    }
    // At 10 % and 50 % stable served traffic in the same window, seen by Prometheus under its own label.
    expect(passed[0]!.stats!.stable.requests).toBeGreaterThan(0);
    expect(await registry.current()).toBe(canary);
    await until("the router follows loras/current", async () => (router.select(userIdForToken(tokens[0]!)).version === canary ? true : undefined), 5000);

    // What Prometheus holds: the chat counters and latency histograms under both adapter labels.
    for (const adapter of [stable, canary]) {
      const outcomes = await series(`council_requests_total{job="council", adapter="${adapter}"}`);
      expect(outcomes.map((labels) => labels.outcome)).toContain("success");
      expect((await series(`council_request_duration_seconds_count{adapter="${adapter}"}`)).length).toBe(1);
    }
    expect(finals.some((f) => f.adapter === canary)).toBe(true);
    expect(finals.some((f) => f.adapter === stable)).toBe(true);
  });

  it("forced rollback: the canary's answers fail the critic, Prometheus shows it, the controller rolls back to stable", async () => {
    const stable = (await registry.current())!;
    const bad = await publish("bad");
    canaryAnswersWrong = true;
    // Traffic goes on for 2 s after the rollback: every answer then comes from stable.
    const { outcome, after: afterRollback } = await runCanary(bad, 2000).finally(() => (canaryAnswersWrong = false));
    expect(outcome.status).toBe("rolled-back");
    if (outcome.status !== "rolled-back") return;
    expect(outcome.reason).toMatch(/^success_rate: canary 0\.0% < 85\.0%/);
    const failed = outcome.analyses.at(-1)!;
    expect(failed.verdict).toBe("fail");
    expect(failed.weight).toBe(10);
    expect(failed.stats!.canary.requests).toBeGreaterThanOrEqual(settings.canaryMinRequests);
    expect(failed.stats!.stable.successRate).toBe(1);

    // loras/current never moved, the canary is off, and all traffic is on stable.
    expect(await registry.current()).toBe(stable);
    expect(router.weight()).toBe(0);
    expect(tokens.every((token) => router.select(userIdForToken(token)).version === stable)).toBe(true);
    expect(afterRollback.length).toBeGreaterThan(0);
    expect(afterRollback.every((f) => f.adapter === stable)).toBe(true);

    const summary = JSON.parse(await readFile(join(registry.paths.loras, "rollback_summary.json"), "utf8")) as RollbackSummary;
    expect(summary).toMatchObject({ reason: outcome.reason, removed: bad, restored: stable, canaryWeightBefore: 10 });

    // Prometheus itself holds the failing canary series (what the controller's PromQL read).
    const badOutcomes = await series(`council_requests_total{adapter="${bad}"}`);
    expect(badOutcomes.map((labels) => labels.outcome)).toContain("failure");
    expect(badOutcomes.map((labels) => labels.outcome)).not.toContain("success");
    await until("the rollback counter scraped", async () => ((await series('council_rollbacks_total{reason="success_rate"}')).length === 1 ? true : undefined), 10_000);
  });

  it("satisfaction rollback: the canary answers pass the critic but users rate them 👎; Prometheus' 👍 share rolls it back", async () => {
    const stable = (await registry.current())!;
    const disliked = await publish("disliked");
    canaryAnswersWrong = false;
    rate = (adapter) => (adapter === disliked ? -1 : 1);
    const { outcome } = await runCanary(disliked).finally(() => (rate = () => null));
    expect(outcome.status).toBe("rolled-back");
    if (outcome.status !== "rolled-back") return;
    expect(outcome.reason).toMatch(/^satisfaction: canary 👍 0\.0% of \d+ ratings, stable 👍 100\.0% of \d+: more than 10\.0 points lower$/);
    const failed = outcome.analyses.at(-1)!;
    expect(failed.verdict).toBe("fail");
    // every other metric of that window: the answers were right, as fast and as cheap as stable's
    expect(failed.metrics.map((m) => [m.metric, m.verdict])).toEqual([["success", "pass"], ["latency", "pass"], ["satisfaction", "fail"], ["cost", "pass"]]);
    expect(failed.stats!.canary.successRate).toBe(1);
    expect(failed.pooled!.canary.ratings.down).toBeGreaterThanOrEqual(settings.canaryMinRatings);
    expect(failed.pooled!.stable.ratings.up).toBeGreaterThanOrEqual(settings.canaryMinRatings);
    // cost was judged on real series too: tokens and CPU seconds per answer, both sides
    for (const side of [failed.pooled!.canary, failed.pooled!.stable]) {
      expect(side.answers).toBeGreaterThan(0);
      expect(side.tokens).toBeGreaterThan(0);
      expect(side.cpuSeconds).toBeGreaterThan(0);
    }
    // the windows before it had too few ratings to judge, or a passing one: never a satisfaction pass for this canary
    expect(outcome.analyses.slice(0, -1).every((a) => a.metrics.find((m) => m.metric === "satisfaction")?.verdict !== "pass")).toBe(true);
    expect(await registry.current()).toBe(stable);
    expect(router.weight()).toBe(0);

    // What the controller's PromQL read: the ratings counter under each adapter label, 👎 only for the canary.
    expect((await series(`council_feedback_total{adapter="${disliked}"}`)).map((labels) => labels.rating)).toEqual(["down"]);
    expect((await series(`council_feedback_total{adapter="${stable}"}`)).map((labels) => labels.rating)).toContain("up");
    await until("the satisfaction rollback scraped", async () => ((await series('council_rollbacks_total{reason="satisfaction"}')).length === 1 ? true : undefined), 10_000);
    await until("the canary's satisfaction verdict scraped", async () => ((await source().query('council_canary_metric_passed{metric="satisfaction"} == 0')).length === 1 ? true : undefined), 10_000);
  });

  it("cost rollback: the canary answers right but with 15× the tokens per answer (45 vs 3); Prometheus' counters roll it back", async () => {
    const stable = (await registry.current())!;
    const costly = await publish("costly");
    canaryAnswersLong = true;
    const { outcome } = await runCanary(costly).finally(() => (canaryAnswersLong = false));
    expect(outcome.status).toBe("rolled-back");
    if (outcome.status !== "rolled-back") return;
    expect(outcome.reason).toMatch(/^cost: canary [\d.]+ tokens and [\d.]+ CPU-s per answer, stable 3\.0 tokens and [\d.]+ CPU-s: tokens over 1\.5 × stable \+ 16/);
    const failed = outcome.analyses.at(-1)!;
    expect(failed.metrics.find((m) => m.metric === "success")?.verdict).toBe("pass");
    expect(failed.pooled!.canary.tokens / failed.pooled!.canary.answers).toBeGreaterThan(2 * (failed.pooled!.stable.tokens / failed.pooled!.stable.answers));
    expect(await registry.current()).toBe(stable);
    await until("the cost rollback scraped", async () => ((await series('council_rollbacks_total{reason="cost"}')).length === 1 ? true : undefined), 10_000);
  });
});
