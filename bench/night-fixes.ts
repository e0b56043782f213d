/**
 * Did a night's adapter learn its fixes? Takes a night's run folder (`<dataDir>/runs/<run>`) and answers every fix in
 * its training set (`dataset/sft.prompt-completion.jsonl`, the `:q-` rows: tonight's accepted rewrites; replayed rows
 * are skipped) with the exact prompt it was trained on, greedily, with the base model and with an adapter (default: the
 * run's own `adapter/adapter.gguf`). A fix is learned when the answer's first code span is the rewrite's command,
 * whitespace collapsed — stricter than the gate's judge (token F1 with the command's first two words), which passes
 * `journalctl -b -p 3` for `journalctl -b -1 -p 3`.
 *
 *   npx tsx bench/night-fixes.ts <run folder> [--adapter other.gguf …] [--model models/seedling.gguf] [--out file]
 *
 * Several `--adapter`s are compared side by side on the same prompts. Writes bench/results/night-fixes-<date>.json.
 */
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { getLlama, LlamaCompletion, LlamaLogLevel, type LlamaModel } from "node-llama-cpp";
import { PROJECT_ROOT, SEEDLING_PATH } from "../core/index.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    adapter: { type: "string", multiple: true },
    model: { type: "string", default: SEEDLING_PATH },
    out: { type: "string" },
  },
});
const run = positionals[0];
if (run === undefined) throw new Error("usage: npx tsx bench/night-fixes.ts <run folder> [--adapter file.gguf …]");

interface Row {
  id: string;
  prompt: string;
  completion: string;
}
const rows = readFileSync(join(run, "dataset", "sft.prompt-completion.jsonl"), "utf8")
  .trim()
  .split("\n")
  .map((line) => JSON.parse(line) as Row)
  .filter((row) => row.id.includes(":q-"));
const command = (text: string) => (/`([^`\n]+)`/.exec(text)?.[1] ?? "").replace(/\s+/g, " ").trim();

async function answers(model: LlamaModel, adapter: string | null): Promise<string[]> {
  const context = await model.createContext({ contextSize: 1024, threads: 1, ...(adapter === null ? {} : { lora: { adapters: [{ filePath: adapter }] } }) });
  try {
    const sequence = context.getSequence();
    const completion = new LlamaCompletion({ contextSequence: sequence });
    const out: string[] = [];
    for (const row of rows) {
      out.push(await completion.generateCompletion(row.prompt, { maxTokens: 80, temperature: 0, customStopTriggers: ["###"] }));
      await sequence.clearHistory();
    }
    return out;
  } finally {
    await context.dispose();
  }
}

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: values.model });
const base = await answers(model, null);
const baseRight = rows.map((row, i) => command(base[i]!) === command(row.completion));
const results = [];
for (const adapter of values.adapter ?? [join(run, "adapter", "adapter.gguf")]) {
  const adapted = await answers(model, adapter);
  const right = rows.map((row, i) => command(adapted[i]!) === command(row.completion));
  const result = {
    adapter,
    fixes: rows.length,
    baseExact: baseRight.filter(Boolean).length,
    adapterExact: right.filter(Boolean).length,
    /** Fixes the base already answered right that the adapter answers wrong. */
    lost: right.filter((ok, i) => !ok && baseRight[i]).length,
    misses: rows.flatMap((row, i) => (right[i] ? [] : [{ expected: command(row.completion), got: command(adapted[i]!), baseRight: baseRight[i] }])),
  };
  console.log(`${adapter}: ${result.adapterExact}/${result.fixes} exact (base ${result.baseExact}/${result.fixes}, lost ${result.lost})`);
  results.push(result);
}
await model.dispose();
await llama.dispose();
const date = new Date().toISOString();
const file = values.out ?? join(PROJECT_ROOT, "bench", "results", `night-fixes-${date.slice(0, 10)}.json`);
await mkdir(dirname(file), { recursive: true });
await writeFile(file, `${JSON.stringify({ date, machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() }, run, model: values.model, results }, null, 2)}\n`);
console.log(`wrote ${file}`);
