/**
 * Seedling reading benchmark: what the model alone answers — no adapter, no verified memory, no fallback — on the
 * default tldr bench (48 held-out pages, never trained on), through the runtime's own parts: the knowledge base
 * (kb/ + the bench pages, hash embeddings, top-3 passages), the answerer's prompt, stops and runaway guard, and
 * llama.cpp (node-llama-cpp) inference. Judged by the bench's accept regexes (bench/improve/tldr.ts).
 *
 * Item sets: traffic (task descriptions, their example in the knowledge base), eval (other examples of the same
 * pages, paraphrased, removed from the knowledge base), and paraphrased traffic (traffic asked in eval wording).
 * Reported per set: success, page retrieved, answers that ended before the token cap, tokens and latency.
 * Several models can be compared side by side in one run (`--model a.gguf --model b.gguf`).
 *
 * Several passage rankers too (`--ranker cosine --ranker hybrid`), on the same index.
 *
 *   npx tsx bench/seedling-reading.ts [--model models/seedling.gguf]… [--ranker hybrid]… (default: hybrid, the `kb.ranker` default) [--root …/tldr/pages] [--max-tokens 160] [--limit N]
 *
 * Writes bench/results/seedling-reading-<date>.json.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Answerer } from "../agents/index.js";
import { PROJECT_ROOT } from "../core/index.js";
import { DEFAULT_LEXICAL_WEIGHT, MarkdownKnowledgeBase, passageRankers } from "../memory/index.js";
import { HashEmbeddings, LlamaChatModel } from "../models/index.js";
import { compileAccept, judgeAnswer } from "./improve/items.js";
import { buildTldrBench, paraphrasedTraffic, type TldrItem } from "./improve/tldr.js";

const { values } = parseArgs({
  options: {
    model: { type: "string", multiple: true, default: [join(PROJECT_ROOT, "models", "seedling.gguf")] },
    root: { type: "string", default: "/work/shared/datasets/tldr/pages" },
    "max-tokens": { type: "string", default: "160" },
    /** Passage rankers to compare side by side (`cosine`, `hybrid`), each on the same index. */
    ranker: { type: "string", multiple: true, default: ["hybrid"] },
    limit: { type: "string" },
    /** Item sets to run (default: all three). */
    sets: { type: "string", multiple: true },
    /** Keep every answer in the results (default: the first 8 of each set). */
    "all-samples": { type: "boolean", default: false },
    out: { type: "string" },
  },
});
const maxTokens = Number(values["max-tokens"]);

export interface SetResult {
  items: number;
  success: number;
  pageRetrieved: number;
  stoppedBeforeCap: number;
  meanTokens: number;
  p50Ms: number;
  p95Ms: number;
  samples: Array<{ id: string; question: string; answer: string; passed: boolean }>;
  /** Ids of the items answered right. */
  passedIds: string[];
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}


async function main() {
  const started = Date.now();
  const load = loadavg();
  const bench = buildTldrBench({ root: values.root });
  const limit = values.limit === undefined ? Infinity : Number(values.limit);
  const sets: Record<string, TldrItem[]> = {
    traffic: bench.traffic.slice(0, limit),
    eval: bench.eval.slice(0, limit),
    paraphrasedTraffic: paraphrasedTraffic(bench.traffic, values.root).slice(0, limit),
  };
  for (const name of Object.keys(sets)) if (values.sets !== undefined && !values.sets.includes(name)) delete sets[name];
  const scratch = join(PROJECT_ROOT, "bench", "scratch", `seedling-reading-${process.pid}`);
  await rm(scratch, { recursive: true, force: true });
  await mkdir(join(scratch, "tldr"), { recursive: true });
  for (const { page, markdown } of bench.kbPages) await writeFile(join(scratch, "tldr", `${page}.md`), markdown);
  const embeddings = new HashEmbeddings({ dimensions: 384 });
  const indexer = await MarkdownKnowledgeBase.create({ storePath: join(scratch, "kb.sqlite"), embeddings });
  await indexer.index(join(PROJECT_ROOT, "kb"));
  await indexer.index(join(scratch, "tldr"));
  await indexer.dispose();
  const results: Record<string, Record<string, SetResult>> = {};
  for (const rankerName of values.ranker!) {
    const ranker = passageRankers.get(rankerName).create({ kb: { lexicalWeight: DEFAULT_LEXICAL_WEIGHT } }, {});
    const knowledgeBase = await MarkdownKnowledgeBase.create({ storePath: join(scratch, "kb.sqlite"), embeddings, ranker });
    try {
      for (const modelPath of values.model!.map((path) => resolve(path))) {
        const key = values.ranker!.length > 1 ? `${modelPath} [${rankerName}]` : modelPath;
        const model = await LlamaChatModel.create({ modelPath, maxTokens, parallel: 1 });
        const answerer = new Answerer({ model, maxTokens });
        results[key] = {};
        try {
          for (const [name, items] of Object.entries(sets)) {
            const latencies: number[] = [];
            let success = 0;
            let retrieved = 0;
            let stopped = 0;
            let tokens = 0;
            const samples: SetResult["samples"] = [];
            const passedIds: string[] = [];
            for (const item of items) {
              const passages = await knowledgeBase.search(item.question, { k: 3 });
              if (passages.some(({ passage }) => passage.source.replace(/^.*\//, "") === `${item.page}.md`)) retrieved++;
              const t0 = performance.now();
              const answer = await answerer.answer({ question: item.question, passages, adapter: null });
              latencies.push(performance.now() - t0);
              const passed = judgeAnswer({ answer: answer.answer, accept: compileAccept(item) });
              if (passed) {
                success++;
                passedIds.push(item.id);
              }
              if (!answer.truncated) stopped++;
              tokens += answer.tokens;
              if (values["all-samples"] || samples.length < 8) samples.push({ id: item.id, question: item.question, answer: answer.answer, passed });
            }
            const n = Math.max(1, items.length);
            results[key]![name] = { items: items.length, success: success / n, pageRetrieved: retrieved / n, stoppedBeforeCap: stopped / n, meanTokens: tokens / n, p50Ms: percentile(latencies, 50), p95Ms: percentile(latencies, 95), samples, passedIds };
            const r = results[key]![name]!;
            console.log(`${key.replace(PROJECT_ROOT + "/", "")} ${name}: success ${(r.success * 100).toFixed(1)} % of ${r.items}, page retrieved ${(r.pageRetrieved * 100).toFixed(0)} %, stopped before cap ${(r.stoppedBeforeCap * 100).toFixed(1)} %, ${r.meanTokens.toFixed(1)} tokens, p50 ${r.p50Ms.toFixed(0)} ms, p95 ${r.p95Ms.toFixed(0)} ms`);
          }
        } finally {
          await model.dispose();
        }
      }
    } finally {
      await knowledgeBase.dispose();
    }
  }
  await rm(scratch, { recursive: true, force: true });
  const date = new Date().toISOString().slice(0, 10);
  const out = values.out ?? join(PROJECT_ROOT, "bench", "results", `seedling-reading-${date}.json`);
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, loadAverageAtStart: load, loadAverageAtEnd: loadavg() };
  await writeFile(out, `${JSON.stringify({ date: new Date().toISOString(), machine, maxTokens, seconds: (Date.now() - started) / 1000, results }, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

await main();
