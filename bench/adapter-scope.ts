/**
 * What the adapter scope costs a turn (no model, seconds): serving asks `scopeMatcher` once per routed turn, with up
 * to MAX_SCOPE_KEEP kept questions and every night's fixes in the adapter file. Side by side in one run on the same
 * questions: the indexed matcher (training/adapter-scope.ts, inverted bigram index) and the reference it replaced
 * (every trained and every kept question compared by Jaccard), and that both decide the same.
 *
 * Questions are tldr descriptions in the runtime's question templates ("How do I …?", "What <tool> command would …?"),
 * from every page (no training reads them: they are only compared).
 *
 *   npx tsx bench/adapter-scope.ts [--root …/tldr/pages] [--keep 250,2000,20000] [--fixes 250] [--asked 300]
 *
 * Writes bench/results/adapter-scope-<date>.json (date, machine, load average, per size: µs per turn both ways, ratio).
 */
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { performance } from "node:perf_hooks";
import { PROJECT_ROOT } from "../core/index.js";
import { jaccard, wordNgrams } from "../training/datasets/index.js";
import { MAX_SCOPE_KEEP, scopeMatcher, type AdapterScope } from "../training/index.js";

const { values } = parseArgs({
  options: {
    root: { type: "string", default: "/work/shared/datasets/tldr/pages" },
    keep: { type: "string", default: `250,2000,${MAX_SCOPE_KEEP}` },
    fixes: { type: "string", default: "250" },
    asked: { type: "string", default: "300" },
    out: { type: "string", default: join(PROJECT_ROOT, "bench", "results") },
  },
});

/** Every page's example descriptions, worded the two ways traffic asks them. */
function tldrQuestions(root: string): string[] {
  const questions: string[] = [];
  for (const platform of readdirSync(root).sort()) {
    for (const file of readdirSync(join(root, platform)).sort()) {
      if (!file.endsWith(".md")) continue;
      const tool = file.slice(0, -3);
      for (const line of readFileSync(join(root, platform, file), "utf8").split("\n")) {
        if (!line.startsWith("- ")) continue;
        const task = line.slice(2).replace(/:$/, "");
        questions.push(`How do I ${task.charAt(0).toLowerCase()}${task.slice(1)} using ${tool}?`, `What ${tool} command would ${task.toLowerCase()}?`);
      }
    }
  }
  return questions;
}

/** The matcher serving used before the index: each question's bigrams computed once, every known question compared by Jaccard. */
function referenceMatcher(scope: AdapterScope): (question: string) => boolean {
  const sets = (questions: readonly string[]) => [...new Map(questions.map((q) => [q.toLowerCase(), wordNgrams(q, 2)])).values()];
  const trained = sets(scope.questions);
  const kept = sets(scope.keep ?? []);
  const nearest = (known: ReadonlyArray<Set<string>>, own: Set<string>) => known.reduce((best, other) => Math.max(best, jaccard(own, other)), 0);
  return (question) => {
    const own = wordNgrams(question, 2);
    const fix = nearest(trained, own);
    const keep = nearest(kept, own);
    return fix >= scope.minSimilarity && (fix > keep || keep === 0);
  };
}

function microsPerCall(matcher: (question: string) => boolean, asked: readonly string[]): { micros: number; inScope: number } {
  let inScope = 0;
  const start = performance.now();
  for (const question of asked) if (matcher(question)) inScope++;
  return { micros: ((performance.now() - start) * 1000) / asked.length, inScope };
}

const all = tldrQuestions(values.root);
// a fixed interleaving (every 7th question a fix, the rest kept), so runs compare
const fixes = all.filter((_, i) => i % 7 === 0).slice(0, Number(values.fixes));
const pool = all.filter((_, i) => i % 7 !== 0);
const asked = [...fixes.slice(0, Number(values.asked) / 2), ...all.filter((_, i) => i % 7 === 3).slice(0, Number(values.asked) / 2)];
const rows = [];
for (const size of values.keep.split(",").map(Number)) {
  const scope: AdapterScope = { questions: fixes, keep: pool.slice(0, size), minSimilarity: 0.5 };
  const buildStart = performance.now();
  const indexed = scopeMatcher(scope);
  const buildMs = performance.now() - buildStart;
  const reference = referenceMatcher(scope);
  const disagreements = asked.filter((question) => indexed(question) !== reference(question)).length;
  // alternate the two sides, three times each, so a change in load hits both
  const runs: { indexed: number; reference: number }[] = [];
  for (let run = 0; run < 3; run++) runs.push({ indexed: microsPerCall(indexed, asked).micros, reference: microsPerCall(reference, asked).micros });
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const row = {
    kept: scope.keep!.length,
    fixes: fixes.length,
    asked: asked.length,
    inScope: microsPerCall(indexed, asked).inScope,
    disagreements,
    indexBuildMs: Math.round(buildMs),
    indexedMicrosPerTurn: Math.round(median(runs.map((r) => r.indexed))),
    referenceMicrosPerTurn: Math.round(median(runs.map((r) => r.reference))),
  };
  rows.push({ ...row, speedup: Number((row.referenceMicrosPerTurn / Math.max(1, row.indexedMicrosPerTurn)).toFixed(1)) });
  console.log(JSON.stringify(rows.at(-1)));
}
const date = new Date().toISOString();
await mkdir(values.out, { recursive: true });
const file = join(values.out, `adapter-scope-${date.slice(0, 10)}.json`);
await writeFile(file, `${JSON.stringify({ date, machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() }, rows }, null, 2)}\n`);
console.log(`wrote ${file}`);
