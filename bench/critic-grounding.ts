/**
 * Critic benchmark: does the critic pass the answers that are right and fail the ones that are wrong? The seedling
 * (model alone: no adapter, no verified memory) answers through the runtime's parts — knowledge base (kb/ + the tldr
 * bench pages, hash embeddings, top-3 passages), the answerer's prompt and stops — and the heuristic critic scores
 * each answer three times, side by side: with the command-grounding check (`groundCommands`, the default), the same
 * with the distinctive-word rule in the check and in the fallback (`rarity`: the knowledge base's document
 * frequencies, agents/distinctive-words.ts), and without the check (`wordsOnly`).
 * Ground truth is the bench's accept regexes (tldr sets) or, for the kb/ questions and answers, the kb answer's
 * command with its options (same derivation as the tldr regexes).
 *
 * Sets: kb (every `Q:` of kb/ whose `A:` quotes a command, asked verbatim: what a newcomer gets on a fresh data dir),
 * kbNatural (plain-English questions about kb/ pages, judged by the page's tool: bench/improve/kb-questions.ts; run
 * with `--sets kbNatural`),
 * traffic, eval and paraphrased traffic of the default tldr bench.
 * Reported per set and critic: answers delivered right (the council's answer when the critic passes it, else the
 * knowledge-base fallback the user gets instead — the number that matters), right answers passed, right answers failed (false rejects: the user gets the fallback
 * instead), wrong answers passed (false accepts: the user gets garbage), wrong answers failed.
 *
 *   npx tsx bench/critic-grounding.ts [--model models/seedling.gguf] [--ranker hybrid]… (default: hybrid, the `kb.ranker` default) [--sets kb,eval] [--limit N]
 *
 * Writes bench/results/critic-grounding-<date>.json.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Answerer, Critic, fallbackAnswer } from "../agents/index.js";
import { PROJECT_ROOT } from "../core/index.js";
import { DEFAULT_LEXICAL_WEIGHT, MarkdownKnowledgeBase, passageRankers } from "../memory/index.js";
import { HashEmbeddings, LlamaChatModel } from "../models/index.js";
import { compileAccept, judgeAnswer, type BenchItem } from "./improve/items.js";
import { kbItems, kbNaturalItems, kbNaturalReportedItems, kbNaturalUntunedItems } from "./improve/kb-questions.js";
import { buildTldrBench, paraphrasedTraffic } from "./improve/tldr.js";

const { values } = parseArgs({
  options: {
    model: { type: "string", default: join(PROJECT_ROOT, "models", "seedling.gguf") },
    root: { type: "string", default: "/work/shared/datasets/tldr/pages" },
    limit: { type: "string" },
    /** Passage rankers to compare side by side (`cosine`, `hybrid`), on the same index. */
    ranker: { type: "string", multiple: true, default: ["hybrid"] },
    /** Comma-separated sets to run. @default all */
    sets: { type: "string", default: "kb,traffic,eval,paraphrasedTraffic" },
    out: { type: "string" },
  },
});

interface Sample {
  question: string;
  answer: string;
  reasons: string[];
}

interface Confusion {
  /** Delivered answers that are right: the council's when the critic passes it, else the knowledge-base fallback. */
  deliveredRight: number;
  rightPassed: number;
  rightFailed: number;
  wrongPassed: number;
  wrongFailed: number;
}

const empty = (): Confusion => ({ deliveredRight: 0, rightPassed: 0, rightFailed: 0, wrongPassed: 0, wrongFailed: 0 });

function tally(confusion: Confusion, right: boolean, passed: boolean): void {
  if (right) confusion[passed ? "rightPassed" : "rightFailed"]++;
  else confusion[passed ? "wrongPassed" : "wrongFailed"]++;
}

async function main() {
  const started = Date.now();
  const load = loadavg();
  const limit = values.limit === undefined ? Infinity : Number(values.limit);
  const bench = buildTldrBench({ root: values.root });
  const allSets: Record<string, BenchItem[]> = {
    kb: kbItems(join(PROJECT_ROOT, "kb")).slice(0, limit),
    kbNatural: [...kbNaturalItems(), ...kbNaturalUntunedItems(), ...kbNaturalReportedItems()].slice(0, limit),
    traffic: bench.traffic.slice(0, limit),
    eval: bench.eval.slice(0, limit),
    paraphrasedTraffic: paraphrasedTraffic(bench.traffic, values.root).slice(0, limit),
  };
  const sets = Object.fromEntries(values.sets.split(",").map((name) => [name, allSets[name] ?? []]));
  const scratch = join(PROJECT_ROOT, "bench", "scratch", `critic-grounding-${process.pid}`);
  await rm(scratch, { recursive: true, force: true });
  await mkdir(join(scratch, "tldr"), { recursive: true });
  for (const { page, markdown } of bench.kbPages) await writeFile(join(scratch, "tldr", `${page}.md`), markdown);
  const embeddings = new HashEmbeddings({ dimensions: 384 });
  const indexer = await MarkdownKnowledgeBase.create({ storePath: join(scratch, "kb.sqlite"), embeddings });
  await indexer.index(join(PROJECT_ROOT, "kb"));
  await indexer.index(join(scratch, "tldr"));
  await indexer.dispose();
  const model = await LlamaChatModel.create({ modelPath: resolve(values.model!), maxTokens: 160, parallel: 1 });
  const answerer = new Answerer({ model, maxTokens: 160 });
  const grounded = new Critic({ model, embeddings, mode: "heuristic" });
  const critics = { grounded: { critic: grounded, rarity: false }, rarity: { critic: grounded, rarity: true }, wordsOnly: { critic: new Critic({ model, embeddings, mode: "heuristic", groundCommands: false }), rarity: false } };
  const results: Record<string, { items: number; right: number; fallbackRight: number; fallbackRareRight: number; critics: Record<keyof typeof critics, Confusion>; falseAccepts: Sample[]; falseRejects: Sample[] }> = {};
  try {
    for (const [rankerName, [name, items]] of values.ranker!.flatMap((ranker) => Object.entries(sets).map((set) => [ranker, set] as const))) {
      const ranker = passageRankers.get(rankerName).create({ kb: { lexicalWeight: DEFAULT_LEXICAL_WEIGHT } }, {});
      const knowledgeBase = await MarkdownKnowledgeBase.create({ storePath: join(scratch, "kb.sqlite"), embeddings, ranker });
      const documentFrequency = (word: string) => knowledgeBase.documentFrequency(word);
      const result = { items: items.length, right: 0, fallbackRight: 0, fallbackRareRight: 0, critics: { grounded: empty(), rarity: empty(), wordsOnly: empty() }, falseAccepts: [] as Sample[], falseRejects: [] as Sample[] };
      for (const item of items) {
        const passages = await knowledgeBase.search(item.question, { k: 3 });
        const answer = await answerer.answer({ question: item.question, passages, adapter: null });
        const right = judgeAnswer({ answer: answer.answer, accept: compileAccept(item) });
        if (right) result.right++;
        const fallbackRight = judgeAnswer({ answer: fallbackAnswer(item.question, passages).answer, accept: compileAccept(item) });
        if (fallbackRight) result.fallbackRight++;
        const fallbackRareRight = judgeAnswer({ answer: fallbackAnswer(item.question, passages, { documentFrequency }).answer, accept: compileAccept(item) });
        if (fallbackRareRight) result.fallbackRareRight++;
        for (const [critic, { critic: instance, rarity }] of Object.entries(critics) as Array<[keyof typeof critics, { critic: Critic; rarity: boolean }]>) {
          const input = { question: item.question, answer: answer.answer, passages, truncated: answer.truncated, runaway: answer.runaway };
          const { value } = await instance.critique(rarity ? { ...input, documentFrequency } : input);
          const passed = value.score >= instance.threshold;
          tally(result.critics[critic], right, passed);
          if (passed ? right : rarity ? fallbackRareRight : fallbackRight) result.critics[critic].deliveredRight++;
          const sample = { question: item.question, answer: answer.answer, reasons: value.reasons };
          if (critic === "grounded" && passed && !right && result.falseAccepts.length < 20) result.falseAccepts.push(sample);
          if (critic === "grounded" && !passed && right && result.falseRejects.length < 30) result.falseRejects.push(sample);
        }
      }
      await knowledgeBase.dispose();
      const key = values.ranker!.length > 1 ? `${name} [${rankerName}]` : name;
      results[key] = result;
      const line = (c: Confusion) => `delivered right ${c.deliveredRight}, right passed ${c.rightPassed}, right failed ${c.rightFailed}, wrong passed ${c.wrongPassed}, wrong failed ${c.wrongFailed}`;
      console.log(
        `${key} (${items.length}, ${result.right} right, fallback alone ${result.fallbackRight} right, with rarity ${result.fallbackRareRight}): grounded: ${line(result.critics.grounded)} | + rarity: ${line(result.critics.rarity)} | words only: ${line(result.critics.wordsOnly)}`,
      );
    }
  } finally {
    await model.dispose();
    await rm(scratch, { recursive: true, force: true });
  }
  const date = new Date().toISOString().slice(0, 10);
  const out = values.out ?? join(PROJECT_ROOT, "bench", "results", `critic-grounding-${date}.json`);
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, loadAverageAtStart: load, loadAverageAtEnd: loadavg() };
  await writeFile(out, `${JSON.stringify({ date: new Date().toISOString(), machine, model: values.model, seconds: (Date.now() - started) / 1000, results }, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

await main();
