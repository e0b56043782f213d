/**
 * Nightly LoRA, adapter alone: how many of N fixes one night's adapter learns, and how many previously passing
 * answers it breaks — no verified memory, no fallback, no canary; the runtime's own parts (knowledge base with hash
 * embeddings and top-3 passages, the answerer's prompt and stops, llama.cpp inference, the native LoRA trainer and
 * the nightly dataset code).
 *
 * Items: the default tldr bench's traffic (48 held-out pages; the bench's traffic is what the nightly loop may
 * harvest and train on). The knowledge base holds kb/ and the bench pages like the improvement bench does. Fixes:
 * the base model's failures — its own failures first, then traffic examples removed from the knowledge base (the
 * notes do not cover them, so the base fails and only the adapter can learn them) until there are N. The fix
 * answer is the reference command in the seedling's answer style ("`command` — clause."), as a correct council vote
 * would pick it. Passing: every other traffic item the base answers right; replay (when the recipe has it) uses the
 * base's own answers to a share of them (what users rated 👍), and regressions are counted on all of them and on
 * those never replayed separately. Also reported per recipe: the same counts when the adapter is scoped
 * (training/adapter-scope.ts, `--scope` similarity, default the config's): it answers a question only when its nearest
 * known question is a fix (the passing questions are kept on the base model), so only in-scope answers can change.
 *
 *   npx tsx bench/nightly-lora.ts [--n 6,50] [--recipe name[,name]] [--threads 2] [--scope 0.5] [--out file]
 *
 * Writes bench/results/nightly-lora-<date>.json (date, machine, load, per N and recipe: learned, regressions, seconds).
 */
import { readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { cpus, hostname, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Answerer, buildAnswerMessages } from "../agents/index.js";
import { loadConfig, PROJECT_ROOT, SEEDLING_PATH } from "../core/index.js";
import { MarkdownKnowledgeBase } from "../memory/index.js";
import { HashEmbeddings, LlamaChatModel, type TemplateMessage } from "../models/index.js";
import { LlamaCppLoraTrainer, nightlyTrainingSet, scopeMatcher } from "../training/index.js";
import { nightlyEpochs } from "../training/datasets/index.js";
import { compileAccept, judgeAnswer } from "./improve/items.js";
import { rng } from "./memory-data.js";
import { buildTldrBench, findTldrPage, parseTldrPage, type TldrItem } from "./improve/tldr.js";

interface Recipe {
  rank: number;
  alpha: number;
  learningRate: number;
  targets: string[];
  minSteps: number;
  epochs: number;
  maxEpochs: number;
  /** Replayed passing answers per fix. */
  replayRatio: number;
  /** Which passing answers are replayed: nearest to the fixes, or a random sample. */
  pick: "nearest" | "first";
  /** Copies of each fix per epoch (default 1), spread evenly through the file. */
  fixRepeats?: number;
}

const ATTN = ["attn_q", "attn_k", "attn_v", "attn_output"];

/** The rows with every fix row `repeats` times, the copies spread evenly among the replay rows. */
function repeatFixes<T extends { kind: string }>(rows: readonly T[], repeats: number): T[] {
  if (repeats <= 1) return [...rows];
  const fixes = rows.filter((row) => row.kind === "fix");
  const replay = rows.filter((row) => row.kind !== "fix");
  const copies = Array.from({ length: repeats }, () => fixes).flat();
  const out: T[] = [];
  const per = replay.length / Math.max(1, copies.length);
  let next = 0;
  copies.forEach((row, index) => {
    out.push(row);
    for (const until = Math.round((index + 1) * per); next < until; next++) out.push(replay[next]!);
  });
  return [...out, ...replay.slice(next)];
}

const defaults = loadConfig({ env: {} }).training;
const BASE: Recipe = { rank: defaults.rank, alpha: defaults.alpha, learningRate: defaults.learningRate, targets: [...defaults.targets], minSteps: defaults.minSteps, epochs: defaults.epochs, maxEpochs: defaults.maxEpochs, replayRatio: defaults.replayRatio, pick: "nearest" };
const OLD: Recipe = { ...BASE, pick: "first", replayRatio: 0, learningRate: 1e-4, minSteps: 200, epochs: 8 };
const RECIPES: Record<string, Recipe> = {
  /** The committed defaults (core/config.ts). */
  defaults: BASE,
  /** The defaults with more steps per night (epochs sized up to reach them). */
  "defaults-steps600": { ...BASE, minSteps: 600 },
  "defaults-steps1000": { ...BASE, minSteps: 1000 },
  "replay4-steps600": { ...BASE, minSteps: 600, replayRatio: 4 },
  "replay8-steps600": { ...BASE, minSteps: 600, replayRatio: 8 },
  "replay8-steps1800": { ...BASE, minSteps: 1800, replayRatio: 8 },
  "steps600-no-head": { ...BASE, minSteps: 600, targets: BASE.targets.filter((t) => t !== "output.weight") },
  "steps600-attn": { ...BASE, minSteps: 600, targets: ATTN },
  "steps400-attn": { ...BASE, minSteps: 400, targets: ATTN },
  "steps600-qv": { ...BASE, minSteps: 600, targets: ["attn_q", "attn_v"] },
  "replay4-steps1200-attn": { ...BASE, minSteps: 1200, replayRatio: 4, targets: ATTN },
  /** Every passing answer replayed (ratio large enough), each fix 5 times per epoch. */
  "replay-all-fix5-attn": { ...BASE, minSteps: 0, epochs: 5, replayRatio: 1000, fixRepeats: 5, targets: ATTN },
  "replay-all-fix8-attn": { ...BASE, minSteps: 0, epochs: 4, replayRatio: 1000, fixRepeats: 8, targets: ATTN },
  "steps600-ffn": { ...BASE, minSteps: 600, targets: ["ffn_gate", "ffn_up", "ffn_down"] },
  "replay4-steps1200-no-head": { ...BASE, minSteps: 1200, replayRatio: 4, targets: BASE.targets.filter((t) => t !== "output.weight") },
  "steps600-no-head-rank4": { ...BASE, minSteps: 600, rank: 4, alpha: 8, targets: BASE.targets.filter((t) => t !== "output.weight") },
  /** After the gradient-accumulator fix (native/llama-patches/0002): 10 epochs at a higher learning rate. */
  "epochs10-lr1e-3": { ...BASE, minSteps: 0, epochs: 10, learningRate: 1e-3 },
  "epochs10-lr2e-3": { ...BASE, minSteps: 0, epochs: 10, learningRate: 2e-3 },
  "epochs10-lr4e-4": { ...BASE, minSteps: 0, epochs: 10, learningRate: 4e-4 },
  "epochs20-lr1e-4": { ...BASE, minSteps: 0, epochs: 20, learningRate: 1e-4 },
  /** Before this bench: lr 1e-4, minSteps 200, no replay. */
  old: OLD,
  replay1: { ...OLD, replayRatio: 1 },
  replay2: { ...OLD, replayRatio: 2 },
  "replay1-lr3e-4": { ...OLD, replayRatio: 1, learningRate: 3e-4 },
  "replay1-lr5e-5": { ...OLD, replayRatio: 1, learningRate: 5e-5 },
  "replay1-no-head": { ...OLD, replayRatio: 1, targets: OLD.targets.filter((t) => t !== "output.weight") },
  "replay1-rank32": { ...OLD, replayRatio: 1, rank: 32, alpha: 64 },
  "replay1-steps400": { ...OLD, replayRatio: 1, minSteps: 400 },
  "lr3e-4": { ...OLD, learningRate: 3e-4 },
  near1: { ...OLD, replayRatio: 1, pick: "nearest" },
  "no-head": { ...OLD, targets: OLD.targets.filter((t) => t !== "output.weight") },
  "near1-no-head": { ...OLD, replayRatio: 1, pick: "nearest", targets: OLD.targets.filter((t) => t !== "output.weight") },
  "near1-steps1000": { ...OLD, replayRatio: 1, pick: "nearest", minSteps: 1000 },
  "steps1000": { ...OLD, minSteps: 1000 },
  "near1-lr3e-4": { ...OLD, replayRatio: 1, pick: "nearest", learningRate: 3e-4 },
  near2: { ...OLD, replayRatio: 2, pick: "nearest" },
  "near1-steps100": { ...OLD, replayRatio: 1, pick: "nearest", minSteps: 100 },
  "near1-lr5e-5": { ...OLD, replayRatio: 1, pick: "nearest", learningRate: 5e-5 },
};

const { values } = parseArgs({
  options: {
    n: { type: "string", default: "6,50" },
    recipe: { type: "string", default: "defaults" },
    root: { type: "string", default: "/work/shared/datasets/tldr/pages" },
    threads: { type: "string", default: "2" },
    "max-tokens": { type: "string", default: "160" },
    /** Least word-bigram similarity to a fix for the scoped adapter to answer (training.scopeSimilarity). */
    scope: { type: "string", default: String(defaults.scopeSimilarity) },
    out: { type: "string" },
  },
});
const scopeSimilarity = Number(values.scope);

/** The page's markdown without the example whose description line is `description`. */
function withoutExample(markdown: string, description: string): string {
  const lines = markdown.split(/\r?\n/);
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    const match = /^- (.+?):?$/.exec(line);
    if (match && match[1]!.replace(/\[([^\]\s]{1,3})\]/g, "$1").trim() === description) {
      i++; // and its command line
      while (i + 1 < lines.length && lines[i]!.trim() === "") i++;
      continue;
    }
    out.push(lines[i]!);
  }
  return out.join("\n");
}

/** Seeded shuffle (bench/memory-data.ts's mulberry32). */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const { uniform } = rng(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(uniform() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

interface Asked {
  item: TldrItem;
  messages: TemplateMessage[];
  answer: string;
  passed: boolean;
}

async function main() {
  const started = Date.now();
  const loadAtStart = loadavg();
  const threads = Number(values.threads);
  const maxTokens = Number(values["max-tokens"]);
  const bench = buildTldrBench({ root: values.root });
  const description = new Map<string, string>();
  for (const item of bench.traffic) {
    const examples = parseTldrPage({ page: item.page, markdown: readFileSync(findTldrPage({ root: values.root, page: item.page })!, "utf8") });
    description.set(item.id, examples[Number(item.id.slice(item.id.lastIndexOf("-") + 1))]!.description);
  }
  const scratch = join(PROJECT_ROOT, "bench", "scratch", `nightly-lora-${process.pid}`);
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  // inference on one thread (the runtime default for a model this small; two spin-waiting threads crawl on a shared machine)
  const model = await LlamaChatModel.create({ modelPath: SEEDLING_PATH, maxTokens, parallel: 1 });
  const answerer = new Answerer({ model, maxTokens });
  const trainer = await LlamaCppLoraTrainer.create({ threads });

  /** A knowledge base over kb/ and the bench pages without the `removed` examples. */
  const knowledgeBaseWithout = async (removed: readonly TldrItem[], tag: string) => {
    const dir = join(scratch, `kb-${tag}`);
    await mkdir(dir, { recursive: true });
    for (const { page, markdown } of bench.kbPages) {
      let text = markdown;
      for (const item of removed.filter((r) => r.page === page)) text = withoutExample(text, description.get(item.id)!);
      await writeFile(join(dir, `${page}.md`), text);
    }
    const kb = await MarkdownKnowledgeBase.create({ storePath: join(scratch, `kb-${tag}.sqlite`), embeddings: new HashEmbeddings({ dimensions: 384 }) });
    await kb.index(join(PROJECT_ROOT, "kb"));
    await kb.index(dir);
    return kb;
  };
  const ask = async (kb: MarkdownKnowledgeBase, items: readonly TldrItem[], adapter: string | null): Promise<Asked[]> => {
    const out: Asked[] = [];
    for (const item of items) {
      const passages = await kb.search(item.question, { k: 3 });
      const messages = buildAnswerMessages({ question: item.question, passages });
      const result = await answerer.answer({ question: item.question, passages, adapter });
      out.push({ item, messages, answer: result.answer, passed: judgeAnswer({ answer: result.answer, accept: compileAccept(item) }) });
      if (out.length % 50 === 0) console.log(`  asked ${out.length}/${items.length} (${adapter ?? "base"})`);
    }
    return out;
  };

  const full = await knowledgeBaseWithout([], "full");
  const natural = (await ask(full, bench.traffic, null)).filter((asked) => !asked.passed).map((asked) => asked.item);
  await full.dispose();
  console.log(`base fails ${natural.length} of ${bench.traffic.length} traffic items with the full knowledge base`);

  const results: Array<Record<string, unknown>> = [];
  const out = values.out ?? join(PROJECT_ROOT, "bench", "results", `nightly-lora-${new Date().toISOString().slice(0, 10)}.json`);
  /** Written after every recipe, so a run stopped early keeps what it measured. */
  const write = async () => {
    const machine = { host: hostname(), cpus: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), loadAverageAtStart: loadAtStart, loadAverageNow: loadavg(), trainerThreads: threads, inferenceThreads: 1 };
    await writeFile(out, `${JSON.stringify({ date: new Date().toISOString(), machine, seconds: (Date.now() - started) / 1000, naturalFailures: natural.length, traffic: bench.traffic.length, results }, null, 2)}\n`);
  };
  const ns = values.n!.split(",").map(Number);
  const recipeNames = values.recipe!.split(",");
  for (const n of ns) {
    const naturalIds = new Set(natural.map((item) => item.id));
    const extra = shuffled(bench.traffic.filter((item) => !naturalIds.has(item.id)), 13 + n).slice(0, Math.max(0, Math.ceil((n - natural.length) * 1.3)));
    const kb = await knowledgeBaseWithout(extra, `n${n}`);
    try {
      const base = await ask(kb, bench.traffic, null);
      const failing = base.filter((asked) => !asked.passed);
      const byId = new Map(failing.map((asked) => [asked.item.id, asked]));
      const fixes = [...natural, ...extra].map((item) => byId.get(item.id)).filter((asked): asked is Asked => asked !== undefined).slice(0, n);
      const passing = base.filter((asked) => asked.passed);
      console.log(`N=${n}: ${fixes.length} fixes, ${passing.length} passing`);
      for (const name of recipeNames) {
        const recipe = RECIPES[name];
        if (recipe === undefined) throw new Error(`unknown recipe ${name}; known: ${Object.keys(RECIPES).join(", ")}`);
        const rows = repeatFixes(nightlyTrainingSet({
          fixes: fixes.map((asked) => ({ id: asked.item.id, question: asked.item.question, messages: asked.messages, answer: `\`${asked.item.answer}\` — ${description.get(asked.item.id)!.charAt(0).toLowerCase()}${description.get(asked.item.id)!.slice(1).replace(/[.:]\s*$/, "")}.` })),
          replay: shuffled(passing, 7).map((asked) => ({ id: asked.item.id, question: asked.item.question, messages: asked.messages, answer: asked.answer })),
          replayRatio: recipe.replayRatio,
          pick: recipe.pick,
        }), recipe.fixRepeats ?? 1);
        const replayed = new Set(rows.filter((row) => row.kind === "replay").map((row) => row.id));
        const data = join(scratch, `n${n}-${name}.jsonl`);
        await writeFile(data, rows.map((row) => JSON.stringify({ prompt: row.prompt, completion: row.completion })).join("\n") + "\n");
        const epochs = nightlyEpochs(recipe, rows.length);
        const out = join(scratch, `n${n}-${name}`);
        const t0 = performance.now();
        const trained = await trainer.train({ dataset: data, base: SEEDLING_PATH, out, rank: recipe.rank, alpha: recipe.alpha, epochs, learningRate: recipe.learningRate, targets: recipe.targets });
        const trainSeconds = (performance.now() - t0) / 1000;
        const slot = `n${n}-${name}`;
        await model.setAdapter({ slot, path: trained.adapterPath, version: slot });
        const fixed = await ask(kb, fixes.map((asked) => asked.item), slot);
        const after = await ask(kb, passing.map((asked) => asked.item), slot);
        await model.removeAdapter(slot);
        const broken = after.filter((asked) => !asked.passed);
        // Scoped serving (training/adapter-scope.ts): the adapter answers only questions near a fix; elsewhere the base does.
        // kept on the base model: the passing answers' questions (the night's regression cases)
        const inScope = scopeMatcher({ questions: fixes.map((asked) => asked.item.question), minSimilarity: scopeSimilarity, keep: passing.map((asked) => asked.item.question) });
        const scopedLearned = fixed.filter((asked) => asked.passed && inScope(asked.item.question)).length;
        const scopedBroken = broken.filter((asked) => inScope(asked.item.question)).length;
        const passingInScope = passing.filter((asked) => inScope(asked.item.question)).length;
        const result = {
          n,
          recipe: name,
          settings: { ...recipe, epochs },
          fixes: fixes.length,
          examples: rows.length,
          replayed: replayed.size,
          learned: fixed.filter((asked) => asked.passed).length,
          repeatFailureRate: fixes.length === 0 ? null : Math.round((fixed.filter((asked) => !asked.passed).length / fixes.length) * 1000) / 1000,
          passing: passing.length,
          regressions: broken.length,
          regressionsNotReplayed: broken.filter((asked) => !replayed.has(asked.item.id)).length,
          notReplayed: passing.length - replayed.size,
          regressionKept: passing.length === 0 ? null : Math.round((1 - broken.length / passing.length) * 1000) / 1000,
          scope: { minSimilarity: scopeSimilarity, learned: scopedLearned, regressions: scopedBroken, passingInScope },
          trainSeconds: Math.round(trainSeconds * 10) / 10,
          finalLoss: trained.report.lossCurve.at(-1)?.loss ?? null,
          samples: { fixed: fixed.slice(0, 4).map((asked) => ({ q: asked.item.question, a: asked.answer, passed: asked.passed })), broken: broken.slice(0, 4).map((asked) => ({ q: asked.item.question, a: asked.answer })) },
        };
        results.push(result);
        await write();
        console.log(`N=${n} ${name}: learned ${result.learned}/${result.fixes}, regressions ${result.regressions}/${result.passing} (not replayed: ${result.regressionsNotReplayed}/${result.notReplayed}), ${rows.length} examples × ${epochs} epochs in ${result.trainSeconds} s, loss ${result.finalLoss?.toFixed(3)}; scoped (≥ ${scopeSimilarity}): learned ${scopedLearned}/${result.fixes}, regressions ${scopedBroken}/${result.passing} (${passingInScope} passing in scope)`);
      }
    } finally {
      await kb.dispose();
    }
  }
  await model.dispose();
  await rm(scratch, { recursive: true, force: true });
  await write();
  console.log(`wrote ${out}`);
}

await main();
