/**
 * Council turn overhead: the wall time of a full council turn (route → recall → answer → critique ⇄ revise →
 * record, with real FAISS memory writes) minus the time the answerer spends generating tokens, as a share of
 * the turn time. Runs on the seedling (models/seedling.gguf; a tiny random GGUF when it is not built), side by
 * side in one run: the council turn with heuristic router/critic, the turn in `auto` mode (the model is asked
 * for JSON first; the seedling cannot, so each agent falls back after one token), and bare generation of the
 * same answer prompt with no council around it.
 *
 * Target: overhead ≤ 5 % of the turn and ≤ 10 ms at p50.
 *
 *   npx tsx bench/turn-overhead.ts [--turns 12] [--model <gguf>] [--threads 1] [--modes heuristic,auto] [--out bench/results]
 *
 * `--model` measures another GGUF (e.g. the 0.5 B-shaped one of `council bench perf --make-model`).
 *
 * Writes bench/results/turn-overhead-<date>.json (date, machine, numbers).
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, hostname, loadavg, platform, release, tmpdir, totalmem } from "node:os";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { buildAnswerMessages, DEFAULT_TOPICS, toChatMessages } from "../agents/index.js";
import { createCouncil } from "../council/index.js";
import { loadConfig, PROJECT_ROOT, SEEDLING_PATH } from "../core/index.js";
import { FaissMemory, MarkdownKnowledgeBase } from "../memory/index.js";
import { HashEmbeddings, LlamaChatModel } from "../models/index.js";
import { createTinyModel } from "../test/helpers/tiny-model.js";

const loadBefore = loadavg()[0]!;
const { values } = parseArgs({
  options: {
    turns: { type: "string", default: "12" },
    model: { type: "string" },
    threads: { type: "string", default: "1" },
    modes: { type: "string", default: "heuristic,auto" },
    out: { type: "string", default: join(PROJECT_ROOT, "bench", "results") },
  },
});
const TURNS = Number(values.turns);
const THREADS = Number(values.threads);
const MODES = values.modes.split(",").filter((mode): mode is "heuristic" | "auto" => mode === "heuristic" || mode === "auto");
if (MODES.length === 0) throw new Error(`--modes: expected heuristic and/or auto, got ${values.modes}`);
const QUESTIONS = [
  "How do I extract a tar.gz archive?",
  "How do I reset my password?",
  "My wifi keeps disconnecting, what can I do?",
  "How do I see how much disk space a folder uses?",
  "How do I list hidden files?",
  "The VPN does not connect from the hotel.",
  "How do I add a printer?",
  "How do I find which process uses port 8080?",
];

const scratch = await mkdtemp(join(tmpdir(), "council-bench-turn-"));
const usingSeedling = values.model === undefined && existsSync(SEEDLING_PATH);
const modelPath = values.model ?? (usingSeedling ? SEEDLING_PATH : await createTinyModel({ dir: scratch }));
const maxTokens = 64;
const chatModel = await LlamaChatModel.create({ modelPath, contextSize: 2048, parallel: 1, maxTokens, threads: THREADS });
const embeddings = new HashEmbeddings({ dimensions: 384 });
const knowledgeBase = await MarkdownKnowledgeBase.create({ storePath: join(scratch, "kb.sqlite"), embeddings });
await knowledgeBase.index(join(PROJECT_ROOT, "kb"));

const percentile = (list: number[], p: number) => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

interface Sample {
  turnMs: number;
  generationMs: number;
  overheadMs: number;
  tokens: number;
  revisions: number;
}

async function councilRun(mode: "heuristic" | "auto"): Promise<Sample[]> {
  const memory = await FaissMemory.create({ dir: join(scratch, `memory-${mode}`), embeddings, dimensions: 384 });
  const config = loadConfig({ env: {}, overrides: { dataDir: scratch, model: { maxTokens }, agents: { router: mode, critic: mode, maxRevisions: 1 } } });
  const council = await createCouncil({ config, chatModel, embeddings, memory, knowledgeBase, topics: DEFAULT_TOPICS, modelName: basename(modelPath) });
  const samples: Sample[] = [];
  try {
    for (let i = 0; i < TURNS + 2; i++) {
      const started = performance.now();
      const result = await council.turn({ id: `b${i}`, sessionId: `bench-${mode}-${i}`, text: QUESTIONS[i % QUESTIONS.length]! });
      const turnMs = performance.now() - started;
      const generationMs = result.steps!.filter((step) => step.agent === "answerer" || step.agent === "revise").reduce((sum, step) => sum + step.ms, 0);
      if (i >= 2) samples.push({ turnMs, generationMs, overheadMs: turnMs - generationMs, tokens: result.tokens, revisions: result.revisions ?? 0 }); // 2 warm-up turns
    }
  } finally {
    await council.dispose();
    await memory.dispose();
  }
  return samples;
}

async function bareGeneration(): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < TURNS + 2; i++) {
    const question = QUESTIONS[i % QUESTIONS.length]!;
    const passages = await knowledgeBase.search(question, { k: 3 });
    const messages = toChatMessages(buildAnswerMessages({ question, passages }));
    const started = performance.now();
    for await (const chunk of await chatModel.stream(messages, { adapter: null, maxTokens })) void chunk;
    if (i >= 2) times.push(performance.now() - started);
  }
  return times;
}

function summarise(samples: Sample[]) {
  const overhead = samples.map((s) => s.overheadMs);
  const ratio = samples.map((s) => s.overheadMs / s.turnMs);
  return {
    turns: samples.length,
    turnMs: { p50: round(percentile(samples.map((s) => s.turnMs), 50)), p95: round(percentile(samples.map((s) => s.turnMs), 95)) },
    generationMs: { p50: round(percentile(samples.map((s) => s.generationMs), 50)) },
    overheadMs: { p50: round(percentile(overhead, 50)), p95: round(percentile(overhead, 95)), max: round(Math.max(...overhead)) },
    overheadRatio: { p50: round(percentile(ratio, 50), 4), p95: round(percentile(ratio, 95), 4) },
    tokensPerTurn: round(samples.reduce((sum, s) => sum + s.tokens, 0) / samples.length, 1),
    revisedTurns: samples.filter((s) => s.revisions > 0).length,
  };
}

try {
  const heuristic = MODES.includes("heuristic") ? summarise(await councilRun("heuristic")) : null;
  const auto = MODES.includes("auto") ? summarise(await councilRun("auto")) : null;
  const bare = await bareGeneration();
  const result = {
    benchmark: "turn-overhead",
    date: new Date().toISOString(),
    machine: { hostname: hostname(), platform: `${platform()} ${release()}`, cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, memoryGiB: round(totalmem() / 2 ** 30, 1), node: process.version, loadAverage1m: { before: round(loadBefore), after: round(loadavg()[0]!) } },
    model: { path: basename(modelPath), seedling: usingSeedling, maxTokens, threads: THREADS },
    setup: { memory: "FaissMemory (faiss-node + SQLite, fsync per record)", knowledgeBase: "MarkdownKnowledgeBase over kb/ (faiss-node)", embeddings: "hash 384", questions: QUESTIONS.length },
    target: { overheadRatioP50: 0.05, overheadMsP50: 10 },
    council: { heuristic, auto },
    bareGenerationMs: { p50: round(percentile(bare, 50)), p95: round(percentile(bare, 95)) },
    pass: {
      heuristic: heuristic === null ? null : heuristic.overheadRatio.p50 <= 0.05 && heuristic.overheadMs.p50 <= 10,
      auto: auto === null ? null : auto.overheadRatio.p50 <= 0.05 && auto.overheadMs.p50 <= 10,
    },
  };
  console.log(JSON.stringify(result, null, 2));
  await mkdir(values.out, { recursive: true });
  const out = join(values.out, `turn-overhead-${result.date.slice(0, 10)}.json`);
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  console.error(`wrote ${out}`);
} finally {
  await knowledgeBase.dispose();
  await chatModel.dispose();
  await rm(scratch, { recursive: true, force: true });
}
