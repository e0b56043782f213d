import { Command, InvalidArgumentError } from "commander";
import { createLogger, loadConfig } from "../../core/index.js";
import { openKnowledgeBase } from "../../memory/index.js";
import { createEmbeddings } from "../../models/index.js";

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError("expected an integer in [1, 1000]");
  return n;
}

async function withKb<T>(work: (kb: Awaited<ReturnType<typeof openKnowledgeBase>>["kb"]) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const logger = createLogger({ logLevel: config.logLevel === "info" ? "warn" : config.logLevel }, process.stderr);
  const opened = await createEmbeddings({ config, logger });
  try {
    const { kb } = await openKnowledgeBase({ config, embeddings: opened.embeddings, logger, indexConfigured: false });
    try {
      return await work(kb);
    } finally {
      await kb.dispose();
    }
  } finally {
    await opened.dispose();
  }
}

export function register(program: Command): void {
  const kb = program.command("kb").description("Knowledge base: index folders of markdown (kb/, tldr pages) and search them");
  kb.command("index")
    .description("Index every *.md under <dir> (re-embeds only files whose content changed)")
    .argument("<dir>", "folder of markdown, e.g. kb or ../shared/datasets/tldr/pages/common")
    .option("--json", "print the report as JSON")
    .action(async (dir: string, options: { json?: boolean }) => {
      const report = await withKb((base) => base.index(dir));
      if (options.json) console.log(JSON.stringify(report));
      else
        console.log(
          `indexed ${report.root}: ${report.files} files (${report.added} added, ${report.changed} changed, ${report.removed} removed, ` +
            `${report.unchanged} unchanged${report.skipped ? `, ${report.skipped} skipped as too large` : ""}), ` +
            `${report.passages} passages from this folder, ${report.total} in all, in ${report.seconds.toFixed(1)} s`,
        );
    });
  kb.command("search")
    .description("Print the passages nearest to <query>")
    .argument("<query>", "what to look for")
    .option("-k, --k <n>", "number of passages", positiveInt, 5)
    .option("--json", "print the hits as JSON")
    .action(async (query: string, options: { k: number; json?: boolean }) => {
      const hits = await withKb((base) => base.search(query, { k: options.k }));
      if (options.json) console.log(JSON.stringify(hits));
      else if (hits.length === 0) console.log("no passages indexed: run `council kb index <dir>` first");
      else for (const { passage, score } of hits) console.log(`${score.toFixed(3)}  ${passage.source} · ${passage.title}\n       ${passage.text.replace(/\n/g, "\n       ")}`);
    });
}
