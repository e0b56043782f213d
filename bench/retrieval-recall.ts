/**
 * Retrieval benchmark (no model inference, seconds): does the knowledge base put the right page, and a passage that
 * answers, among the passages the answerer reads (top 3)? Rankers are compared side by side on the same index.
 *
 * Sets: kb (the kb/ `Q:` questions verbatim) and kbNatural (plain-English questions about kb/ pages,
 * bench/improve/kb-questions.ts; kbNaturalUntuned: more, written after the weight was chosen), on kb/ alone (a fresh data dir); and, on kb/ + the bench pages, the default tldr bench (held-out pages: traffic, eval, paraphrased traffic),
 * plus dev sets on allowed pages (not in HELD-OUT.txt) — the only tldr sets used to choose weights.
 * Metrics per set and ranker: page@1, page@3 (a hit from the item's page), answer@1, answer@3 (a hit whose text
 * passes the item's accept regexes: the command is there to copy), and answer@all (some passage anywhere passes:
 * the ceiling; eval items' own examples are removed from the knowledge base, so theirs is low by design), and
 * fallback (the extractive fallback answer built from the top 3, what the user gets when the critic fails the
 * model's answer, passes the accept regexes), and fallback+rarity (the same with the distinctive-word rule: the
 * quoted unit must cover the question's rarest word the retrieved passages use, agents/distinctive-words.ts).
 *
 *   npx tsx bench/retrieval-recall.ts [--weights 0.3,0.5] [--root …/tldr/pages] [--items]
 *
 * Writes bench/results/retrieval-recall-<date>.json (with `--items`, every item's hit ranks too).
 */
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fallbackAnswer, type DocumentFrequency } from "../agents/index.js";
import { PROJECT_ROOT } from "../core/index.js";
import { cosineRanker, hybridRanker, MarkdownKnowledgeBase, plainTldrCommand, type PassageHit, type PassageRanker } from "../memory/index.js";
import { HashEmbeddings } from "../models/index.js";
import { compileAccept, judgeAnswer, type BenchItem } from "./improve/items.js";
import { kbItems, kbNaturalItems, kbNaturalUntunedItems } from "./improve/kb-questions.js";
import { buildTldrBench, paraphrasedTraffic } from "./improve/tldr.js";

const { values } = parseArgs({
  options: {
    root: { type: "string", default: "/work/shared/datasets/tldr/pages" },
    weights: { type: "string", default: "0.1,0.2,0.3,0.5,1" },
    items: { type: "boolean", default: false },
    out: { type: "string" },
  },
});

/** A bench item with the file (basename) whose passages count as its page. */
type Item = BenchItem & { file: string };
interface Metrics {
  items: number;
  page1: number;
  page3: number;
  answer1: number;
  answer3: number;
  answerAll: number;
  /** The extractive fallback's answer (what the user gets when the critic fails the model's) passes. */
  fallback: number;
  /** The same with the distinctive-word rule (the knowledge base's document frequencies). */
  fallbackRare: number;
}

/** 48 allowed pages (not held out), spread evenly over common/: the dev pages weights are chosen on. */
function devPages(root: string): string[] {
  const heldOut = new Set(readFileSync(join(root, "..", "HELD-OUT.txt"), "utf8").split("\n").filter((line) => line && !line.startsWith("#")).map((line) => line.trim()));
  const allowed = readdirSync(join(root, "common")).filter((file) => file.endsWith(".md")).map((file) => file.slice(0, -3)).filter((page) => /^[a-z][\w-]*$/.test(page) && !heldOut.has(`common/${page}`)).sort();
  const step = Math.floor(allowed.length / 48);
  return allowed.filter((_page, index) => index % step === 0).slice(0, 48);
}

function measure(items: Item[], hits: PassageHit[][], all: PassageHit[][], documentFrequency: DocumentFrequency): { metrics: Metrics; ranks: Array<{ id: string; page: number; answer: number; fallback: boolean; fallbackRare: boolean }> } {
  const metrics = { items: items.length, page1: 0, page3: 0, answer1: 0, answer3: 0, answerAll: 0, fallback: 0, fallbackRare: 0 };
  const ranks = items.map((item, i) => {
    const accept = compileAccept(item);
    const pageRank = hits[i]!.findIndex(({ passage }) => passage.source.replace(/^.*\//, "") === item.file);
    const answers = (list: PassageHit[]) => list.findIndex(({ passage }) => passage.source.replace(/^.*\//, "") === item.file && judgeAnswer({ answer: plainTldrCommand(passage.text), accept }));
    const answerRank = answers(hits[i]!);
    if (pageRank === 0) metrics.page1++;
    if (pageRank >= 0 && pageRank < 3) metrics.page3++;
    if (answerRank === 0) metrics.answer1++;
    if (answerRank >= 0 && answerRank < 3) metrics.answer3++;
    if (answers(all[i]!) >= 0) metrics.answerAll++;
    const fallback = judgeAnswer({ answer: fallbackAnswer(item.question, hits[i]!).answer, accept });
    if (fallback) metrics.fallback++;
    const fallbackRare = judgeAnswer({ answer: fallbackAnswer(item.question, hits[i]!, { documentFrequency }).answer, accept });
    if (fallbackRare) metrics.fallbackRare++;
    return { id: item.id, page: pageRank, answer: answerRank, fallback, fallbackRare };
  });
  const n = Math.max(1, items.length);
  const share = (count: number) => Math.round((count / n) * 1000) / 1000;
  return { metrics: { items: items.length, page1: share(metrics.page1), page3: share(metrics.page3), answer1: share(metrics.answer1), answer3: share(metrics.answer3), answerAll: share(metrics.answerAll), fallback: share(metrics.fallback), fallbackRare: share(metrics.fallbackRare) }, ranks };
}

async function main() {
  const started = Date.now();
  const load = loadavg();
  const scratch = join(PROJECT_ROOT, "bench", "scratch", `retrieval-recall-${process.pid}`);
  await rm(scratch, { recursive: true, force: true });
  const rankers: PassageRanker[] = [cosineRanker(), ...values.weights.split(",").map((weight) => ({ ...hybridRanker({ weight: Number(weight) }), name: `hybrid ${weight}` }))];
  const kbDir = join(PROJECT_ROOT, "kb");
  const kbSets = { kb: kbItems(kbDir), kbNatural: kbNaturalItems(), kbNaturalUntuned: kbNaturalUntunedItems() };
  const groups = {
    kbOnly: undefined,
    heldOut: buildTldrBench({ root: values.root }),
    dev: buildTldrBench({ root: values.root, pages: devPages(values.root) }),
  };
  const results: Record<string, Record<string, Metrics>> = {};
  const itemRanks: Record<string, Record<string, unknown>> = {};
  try {
    for (const [group, bench] of Object.entries(groups)) {
      const dir = join(scratch, group);
      await mkdir(join(dir, "tldr"), { recursive: true });
      for (const { page, markdown } of bench?.kbPages ?? []) await writeFile(join(dir, "tldr", `${page}.md`), markdown);
      const tldr = (items: Array<BenchItem & { page: string }>) => items.map((item) => ({ ...item, file: `${item.page}.md` }));
      const sets: Record<string, Item[]> =
        bench === undefined
          ? kbSets
          : {
              [`${group}Traffic`]: tldr(bench.traffic),
              [`${group}Eval`]: tldr(bench.eval),
              [`${group}Paraphrased`]: tldr(paraphrasedTraffic(bench.traffic, values.root)),
            };
      const embeddings = new HashEmbeddings({ dimensions: 384 });
      const storePath = join(dir, "kb.sqlite");
      const indexer = await MarkdownKnowledgeBase.create({ storePath, embeddings });
      await indexer.index(kbDir);
      await indexer.index(join(dir, "tldr"));
      const size = Math.min(1000, indexer.size());
      await indexer.dispose();
      for (const ranker of rankers) {
        const kb = await MarkdownKnowledgeBase.create({ storePath, embeddings, ranker });
        try {
          for (const [name, items] of Object.entries(sets)) {
            const hits = await Promise.all(items.map((item) => kb.search(item.question, { k: 3 })));
            const all = await Promise.all(items.map((item) => kb.search(item.question, { k: size })));
            const { metrics, ranks } = measure(items, hits, all, (word) => kb.documentFrequency(word));
            (results[name] ??= {})[ranker.name] = metrics;
            if (values.items) (itemRanks[name] ??= {})[ranker.name] = ranks;
          }
        } finally {
          await kb.dispose();
        }
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const pct = (x: number) => `${(x * 100).toFixed(1)}`.padStart(5);
  console.log(`${"set".padEnd(18)} ${"ranker".padEnd(11)} items page@1 page@3 ans@1 ans@3 ans@all fallback +rarity`);
  for (const [name, byRanker] of Object.entries(results)) {
    for (const [ranker, m] of Object.entries(byRanker)) console.log(`${name.padEnd(18)} ${ranker.padEnd(11)} ${String(m.items).padStart(5)} ${pct(m.page1)}  ${pct(m.page3)}  ${pct(m.answer1)} ${pct(m.answer3)} ${pct(m.answerAll)}  ${pct(m.fallback)}  ${pct(m.fallbackRare)}`);
  }
  const date = new Date().toISOString().slice(0, 10);
  const out = values.out ?? join(PROJECT_ROOT, "bench", "results", `retrieval-recall-${date}.json`);
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, loadAverageAtStart: load, loadAverageAtEnd: loadavg() };
  await writeFile(out, `${JSON.stringify({ date: new Date().toISOString(), machine, seconds: (Date.now() - started) / 1000, devPages: devPages(values.root), results, ...(values.items ? { itemRanks } : {}) }, null, 2)}\n`);
  console.log(`wrote ${out} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

await main();
