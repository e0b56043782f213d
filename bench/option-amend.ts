/**
 * Option amendment from the local manual (agents/option-amend.ts): how many answers it fixes and breaks.
 *
 * Groups: `dev` — 48 allowed tldr pages (not in HELD-OUT.txt) whose tools have a manual page on this machine, the
 * only set thresholds and word lists are chosen on; `bench` — the default tldr bench (held-out pages), reported only.
 * Per group, the item sets of the improve bench: traffic (the asked example is in the notes: amending should not
 * touch it), eval (another example of the page, paraphrased, removed from the notes: the case amendment is for) and
 * paraphrased traffic. Drafts: `copy` — the retrieved notes' best-fitting example (what a model that copies
 * perfectly writes), and with `--model`, that model's answers (the answerer's prompt, top-3 hybrid passages).
 * Reported: passed before → after, answers changed, fixed, broken, and every change (for reading by hand).
 *
 *   npx tsx bench/option-amend.ts [--model models/seedling.gguf] [--groups dev,bench] [--root …/tldr/pages]
 *
 * Writes bench/results/option-amend-<date>.json.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { amendFromManual, Answerer, groundedAnswer } from "../agents/index.js";
import { PROJECT_ROOT } from "../core/index.js";
import { DEFAULT_LEXICAL_WEIGHT, ManualPages, MarkdownKnowledgeBase, passageRankers } from "../memory/index.js";
import { HashEmbeddings, LlamaChatModel } from "../models/index.js";
import { compileAccept, judgeAnswer } from "./improve/items.js";
import { buildTldrBench, paraphrasedTraffic, type TldrItem } from "./improve/tldr.js";

const { values } = parseArgs({
  options: {
    root: { type: "string", default: "/work/shared/datasets/tldr/pages" },
    model: { type: "string" },
    groups: { type: "string", default: "dev,bench" },
    /** How many allowed pages with a local manual make the dev group. */
    "dev-pages": { type: "string", default: "150" },
    out: { type: "string" },
  },
});

/** `count` allowed pages whose tool has a manual page here, spread evenly over common/ (the pages choices are made on). */
function manualDevPages(root: string, count: number): string[] {
  const heldOut = new Set(readFileSync(join(root, "..", "HELD-OUT.txt"), "utf8").split("\n").filter((line) => line && !line.startsWith("#")).map((line) => line.trim()));
  const allowed = readdirSync(join(root, "common"))
    .filter((file) => file.endsWith(".md"))
    .map((file) => file.slice(0, -3))
    .filter((page) => /^[a-z][\w-]*$/.test(page) && !heldOut.has(`common/${page}`))
    .sort();
  const withManual = allowed.filter((page) => {
    try {
      execFileSync("man", ["-w", page], { stdio: ["ignore", "ignore", "ignore"] });
      return true;
    } catch {
      return false;
    }
  });
  const step = Math.max(1, Math.floor(withManual.length / count));
  return withManual.filter((_page, index) => index % step === 0).slice(0, count);
}

interface Change {
  id: string;
  question: string;
  before: string;
  after: string;
  matched: string[];
  dropped: string[];
  passedBefore: boolean;
  passedAfter: boolean;
}

interface SetResult {
  items: number;
  before: number;
  after: number;
  changed: number;
  fixed: number;
  broken: number;
  changes: Change[];
}

async function main() {
  const started = Date.now();
  const load = loadavg();
  const manual = new ManualPages();
  const groups = values.groups.split(",");
  const scratch = join(PROJECT_ROOT, "bench", "scratch", `option-amend-${process.pid}`);
  const model = values.model === undefined ? undefined : await LlamaChatModel.create({ modelPath: resolve(values.model), maxTokens: 160, parallel: 1 });
  const answerer = model === undefined ? undefined : new Answerer({ model, maxTokens: 160 });
  const results: Record<string, Record<string, SetResult>> = {};
  const devPages = groups.includes("dev") ? manualDevPages(values.root, Number(values["dev-pages"])) : [];
  try {
    for (const group of groups) {
      const bench = group === "dev" ? buildTldrBench({ root: values.root, pages: devPages }) : buildTldrBench({ root: values.root });
      const dir = join(scratch, group);
      await mkdir(join(dir, "tldr"), { recursive: true });
      for (const { page, markdown } of bench.kbPages) await writeFile(join(dir, "tldr", `${page}.md`), markdown);
      const embeddings = new HashEmbeddings({ dimensions: 384 });
      const indexer = await MarkdownKnowledgeBase.create({ storePath: join(dir, "kb.sqlite"), embeddings });
      await indexer.index(join(PROJECT_ROOT, "kb"));
      await indexer.index(join(dir, "tldr"));
      await indexer.dispose();
      const ranker = passageRankers.get("hybrid").create({ kb: { lexicalWeight: DEFAULT_LEXICAL_WEIGHT } }, {});
      const kb = await MarkdownKnowledgeBase.create({ storePath: join(dir, "kb.sqlite"), embeddings, ranker });
      const sets: Record<string, TldrItem[]> = { traffic: bench.traffic, eval: bench.eval, paraphrasedTraffic: paraphrasedTraffic(bench.traffic, values.root) };
      try {
        for (const drafts of answerer === undefined ? ["copy"] : ["copy", "model"]) {
          for (const [name, items] of Object.entries(sets)) {
            const result: SetResult = { items: items.length, before: 0, after: 0, changed: 0, fixed: 0, broken: 0, changes: [] };
            for (const item of items) {
              const passages = await kb.search(item.question, { k: 3 });
              const draft = drafts === "copy" ? (groundedAnswer(item.question, passages)?.answer ?? "") : (await answerer!.answer({ question: item.question, passages, adapter: null })).answer;
              const amendment = await amendFromManual({ question: item.question, answer: draft, passages }, manual);
              const accept = compileAccept(item);
              const passedBefore = judgeAnswer({ answer: draft, accept });
              const passedAfter = amendment === undefined ? passedBefore : judgeAnswer({ answer: amendment.answer, accept });
              result.before += Number(passedBefore);
              result.after += Number(passedAfter);
              if (amendment === undefined) continue;
              result.changed++;
              if (passedAfter && !passedBefore) result.fixed++;
              if (passedBefore && !passedAfter) result.broken++;
              result.changes.push({ id: item.id, question: item.question, before: amendment.command, after: amendment.amended, matched: amendment.matched, dropped: amendment.dropped, passedBefore, passedAfter });
            }
            const key = `${group} ${drafts}`;
            (results[key] ??= {})[name] = result;
            console.log(`${key} ${name}: ${result.before} → ${result.after} of ${result.items} (changed ${result.changed}, fixed ${result.fixed}, broken ${result.broken})`);
            for (const change of result.changes) console.log(`   ${change.passedBefore ? "✓" : "✗"}→${change.passedAfter ? "✓" : "✗"} ${change.id}: ${change.before}  ⇒  ${change.after}  [${change.matched.join(", ")}]${change.dropped.length > 0 ? ` dropped ${change.dropped.join(" ")}` : ""}`);
          }
        }
      } finally {
        await kb.dispose();
      }
    }
  } finally {
    await model?.dispose();
    await rm(scratch, { recursive: true, force: true });
  }
  const date = new Date().toISOString().slice(0, 10);
  const out = values.out ?? join(PROJECT_ROOT, "bench", "results", `option-amend-${date}.json`);
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model, loadAverageAtStart: load, loadAverageAtEnd: loadavg() };
  await writeFile(out, `${JSON.stringify({ date: new Date().toISOString(), machine, devPages, seconds: (Date.now() - started) / 1000, results }, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

await main();
