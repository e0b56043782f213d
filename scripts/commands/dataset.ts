import type { Command } from "commander";
import { loadConfig } from "../../core/index.js";
import { acceptedExampleSchema, buildDataset, loadEvalSet, readJsonl } from "../../training/datasets/index.js";

export function register(program: Command): void {
  const dataset = program.command("dataset").description("Training data exports (SFT, DPO, KTO)");
  dataset
    .command("build")
    .description("Build SFT/DPO/KTO JSONL + manifest from accepted rewrites, after PII scrub, caps, dedupe and the contamination check")
    .requiredOption("--input <jsonl>", "accepted examples: {id, traceIds, userId, createdAt, question, messages, chosen, rejected?} per line")
    .requiredOption("--out <dir>", "output folder (must not exist)")
    .option("--eval <jsonl...>", "eval sets ({id, question} per line) the data must not overlap", [])
    .option("--json", "print the manifest as JSON")
    .action(async (options: { input: string; out: string; eval: string[]; json?: boolean }) => {
      const config = loadConfig();
      const accepted = await readJsonl(options.input, acceptedExampleSchema);
      const evalSets = await Promise.all(options.eval.map((path) => loadEvalSet(path)));
      const manifest = await buildDataset({ accepted, evalSets, outDir: options.out, maxPerUserPerDay: config.training.maxPerUserPerDay, maxUserShare: config.training.maxUserShare });
      if (options.json) console.log(JSON.stringify(manifest, null, 2));
      else {
        console.log(`wrote ${options.out}: ${manifest.counts.sft} SFT, ${manifest.counts.dpo} DPO, ${manifest.counts.kto} KTO examples (dataset ${manifest.sha256.slice(0, 12)})`);
        for (const filter of manifest.filters) if (filter.dropped > 0) console.log(`  ${filter.name}: dropped ${filter.dropped}`);
      }
    });
}
