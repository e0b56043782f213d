import { existsSync, statSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import { CouncilError, PROJECT_ROOT } from "../../core/index.js";
import { buildTldrBench, itemsToJsonl, loadItemsJsonl, runImproveBench, type BenchItem, type TrafficItem } from "../../bench/improve/index.js";
import {
  PERF_SECTIONS,
  QWEN2_5_0_5B_SHAPE,
  REAL_SIZE_SECTIONS,
  runPerfBench,
  runRealSizeBench,
  TINY_QWEN2_SHAPE,
  writeRandomQwen2Model,
  type PerfSection,
  type RealSizeSection,
} from "../../bench/perf/index.js";

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer in [${min}, ${max}]`);
    return n;
  };
}

function fraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError("expected a fraction in [0, 1]");
  return n;
}

/** `--channels memory,adapter`: the nightly loop's release channels (COUNCIL_IMPROVE_CHANNELS). */
function channelList(value: string): Array<"memory" | "adapter"> {
  const parts = value.split(",").map((part) => part.trim()).filter(Boolean);
  if (parts.length === 0 || parts.some((part) => part !== "memory" && part !== "adapter")) {
    throw new InvalidArgumentError(`use memory,adapter | memory | adapter, got ${JSON.stringify(value)}.`);
  }
  return [...new Set(parts)] as Array<"memory" | "adapter">;
}

interface ImproveCommandOptions {
  traffic: string;
  pages?: string;
  limit?: number;
  eval?: string;
  cycles: number;
  out?: string;
  corrections: number;
  concurrency: number;
  users: number;
  kb?: string;
  work?: string;
  keepWork?: boolean;
  channels: Array<"memory" | "adapter">;
}

/** Markdown pages of a folder, as knowledge-base pages for the server. */
async function markdownPages(dir: string): Promise<Array<{ page: string; markdown: string }>> {
  const files = (await readdir(dir)).filter((file) => file.endsWith(".md")).sort();
  return Promise.all(files.map(async (file) => ({ page: file.slice(0, -3), markdown: await readFile(join(dir, file), "utf8") })));
}

async function improve(options: ImproveCommandOptions): Promise<void> {
  const out = resolve(options.out ?? join(PROJECT_ROOT, "bench", "results", `improve-${new Date().toISOString().slice(0, 10)}`));
  await mkdir(out, { recursive: true });
  // Files derived from tldr stay out of git (the dataset is never copied into the repo).
  await writeFile(join(out, ".gitignore"), "traffic.jsonl\neval.jsonl\n");
  let traffic: TrafficItem[];
  let evalItems: BenchItem[];
  let kbPages: Array<{ page: string; markdown: string }> = [];
  const trafficPath = resolve(options.traffic);
  if (!existsSync(trafficPath)) throw new CouncilError("CONFIG_INVALID", `--traffic: ${trafficPath} does not exist.`);
  if (statSync(trafficPath).isDirectory()) {
    const pages = options.pages?.split(",").map((page) => page.trim()).filter(Boolean);
    const built = buildTldrBench({ root: trafficPath, ...(pages ? { pages } : {}), ...(options.limit ? { limit: options.limit } : {}) });
    traffic = built.traffic;
    kbPages = built.kbPages;
    evalItems = options.eval ? await loadItemsJsonl(resolve(options.eval)) : built.eval;
  } else {
    if (options.pages) throw new CouncilError("CONFIG_INVALID", "--pages applies to a tldr pages folder, not to a JSONL traffic file.");
    traffic = (await loadItemsJsonl(trafficPath)).slice(0, options.limit);
    if (!options.eval) throw new CouncilError("CONFIG_INVALID", "--eval <file.jsonl> is required with a JSONL traffic file.");
    evalItems = await loadItemsJsonl(resolve(options.eval));
  }
  if (options.kb) kbPages = [...kbPages, ...(await markdownPages(resolve(options.kb)))];
  await writeFile(join(out, "traffic.jsonl"), itemsToJsonl(traffic));
  const evalFile = join(out, "eval.jsonl");
  await writeFile(evalFile, itemsToJsonl(evalItems));
  console.log(`bench improve: ${traffic.length} traffic items, ${evalItems.length} eval items, ${kbPages.length} knowledge-base pages, ${options.cycles} cycle(s) → ${out}`);
  const results = await runImproveBench({
    traffic,
    eval: evalItems,
    kbPages,
    evalFile,
    cycles: options.cycles,
    outDir: out,
    corrections: options.corrections,
    concurrency: options.concurrency,
    users: options.users,
    ...(options.work ? { workDir: options.work } : {}),
    keepWork: options.keepWork ?? false,
    channels: options.channels,
    log: (line) => console.log(`bench improve: ${line}`),
  });
  console.log(JSON.stringify(results, null, 2));
  console.log(`bench improve: wrote ${join(out, "results.json")} and ${join(out, "chart.svg")}`);
}

function sections(value: string): string[] {
  const names = value.split(",").map((name) => name.trim()).filter(Boolean);
  const known: readonly string[] = [...PERF_SECTIONS, ...REAL_SIZE_SECTIONS];
  if (names.length === 0 || names.some((name) => !known.includes(name))) {
    throw new InvalidArgumentError(`expected some of ${PERF_SECTIONS.join(",")} (or with --model: ${REAL_SIZE_SECTIONS.join(",")})`);
  }
  return names;
}

interface RealSizeCommandOptions {
  model?: string;
  makeModel?: string;
  shape?: "qwen2.5-0.5b" | "tiny";
  threads?: number;
  tokens?: number;
  repeats?: number;
  users?: number;
  backend?: "llama" | "llama-server";
}

/** `--make-model`: a random Qwen2.5-0.5B-shaped Q8_0 GGUF; `--model`: the real-size bench on a GGUF. */
async function realSize(options: RealSizeCommandOptions & { sections?: string[]; out?: string }): Promise<void> {
  if (options.makeModel !== undefined) {
    const shape = options.shape === "tiny" ? TINY_QWEN2_SHAPE : QWEN2_5_0_5B_SHAPE;
    console.log(`bench perf: writing a random ${options.shape ?? "qwen2.5-0.5b"}-shaped qwen2 Q8_0 model to ${resolve(options.makeModel)} …`);
    const made = await writeRandomQwen2Model({ path: resolve(options.makeModel), shape });
    console.log(`bench perf: wrote ${made.path}: ${(made.parameters / 1e6).toFixed(1)} M parameters, ${(made.bytes / 2 ** 20).toFixed(0)} MiB in ${made.seconds} s`);
    if (options.model === undefined) return;
  }
  const wrong = (options.sections ?? []).filter((name) => !(REAL_SIZE_SECTIONS as readonly string[]).includes(name));
  if (wrong.length > 0) throw new CouncilError("CONFIG_INVALID", `--sections ${wrong.join(",")}: with --model use some of ${REAL_SIZE_SECTIONS.join(",")}.`);
  const { report, file } = await runRealSizeBench({
    model: resolve(options.model!),
    ...(options.sections ? { sections: options.sections as RealSizeSection[] } : {}),
    ...(options.threads ? { threads: options.threads } : {}),
    ...(options.tokens ? { tokens: options.tokens } : {}),
    ...(options.repeats ? { repeats: options.repeats } : {}),
    ...(options.users ? { users: options.users } : {}),
    ...(options.backend ? { backend: options.backend } : {}),
    ...(options.out ? { outDir: resolve(options.out) } : {}),
    log: (line) => console.log(`bench ${line}`),
  });
  console.log(`bench perf (real size): ${report.summary.met} of ${report.summary.checks} targets met${report.summary.failedSections.length > 0 ? `; failed sections: ${report.summary.failedSections.join(", ")}` : ""}; wrote ${file}`);
  if (report.summary.failedSections.length > 0) process.exitCode = 1;
}

function sizes(value: string): number[] {
  const list = value.split(",").map(Number);
  if (list.some((n) => !Number.isInteger(n) || n < 100 || n > 10_000_000)) throw new InvalidArgumentError("expected comma-separated integers in [100, 10000000]");
  return list;
}

async function perf(options: RealSizeCommandOptions & { sections?: string[]; quick?: boolean; sizes?: number[]; clients?: number; seconds?: number; wsBackend?: "fake" | "seedling"; out?: string }): Promise<void> {
  if (options.model !== undefined || options.makeModel !== undefined) return realSize(options);
  const wrong = (options.sections ?? []).filter((name) => !(PERF_SECTIONS as readonly string[]).includes(name));
  if (wrong.length > 0) throw new CouncilError("CONFIG_INVALID", `--sections ${wrong.join(",")} needs --model <gguf>.`);
  const { report, file } = await runPerfBench({
    quick: options.quick ?? false,
    ...(options.sections ? { sections: options.sections as PerfSection[] } : {}),
    ...(options.sizes ? { sizes: options.sizes } : {}),
    ...(options.clients ? { clients: options.clients } : {}),
    ...(options.seconds ? { seconds: options.seconds } : {}),
    ...(options.wsBackend ? { wsBackend: options.wsBackend } : {}),
    ...(options.out ? { outDir: resolve(options.out) } : {}),
    log: (line) => console.log(`bench ${line}`),
  });
  console.log(`bench perf: ${report.summary.met} of ${report.summary.checks} targets met${report.summary.failedSections.length > 0 ? `; failed sections: ${report.summary.failedSections.join(", ")}` : ""}; wrote ${file}`);
  if (report.summary.failedSections.length > 0) process.exitCode = 1;
}

export function register(program: Command): void {
  const bench = program.command("bench").description("Benchmarks: measure self-improvement (improve) and performance (perf)");
  bench
    .command("perf")
    .description("Performance benchmarks side by side in one run (turn overhead, tokens/s, memory search, hot swap, rollback, WebSocket load); writes bench/results/perf-<date>.json")
    .option("--sections <names>", `comma-separated subset of ${PERF_SECTIONS.join(",")}`, sections)
    .option("--quick", "small sizes everywhere (a smoke run of a few minutes)")
    .option("--sizes <n,n>", "memory search sizes (default 10000,100000,1000000; above ~29k the vectors are synthetic)", sizes)
    .option("--clients <n>", "WebSocket load clients (default 200)", integer(1, 10_000))
    .option("--seconds <n>", "WebSocket load duration (default 60)", integer(1, 3600))
    .addOption(new Option("--ws-backend <name>", "what answers the WebSocket load: fake (the server alone, default) or seedling (the real council)").choices(["fake", "seedling"]))
    .option("--out <dir>", "output folder (default bench/results)")
    .option("--model <gguf>", "real-size mode: stream/turn/parallel/swap on this GGUF side by side with llama-completion and llama-server; writes perf-real-size-<model>-<date>.json")
    .option("--make-model <out.gguf>", "write a random qwen2 Q8_0 model of Qwen2.5-0.5B's dimensions (494 M parameters, ~530 MB) for --model")
    .addOption(new Option("--shape <name>", "--make-model shape").choices(["qwen2.5-0.5b", "tiny"]))
    .option("--threads <n>", "real-size: threads on every side (default 1)", integer(1, 256))
    .option("--tokens <n>", "real-size: tokens per generation (default 64)", integer(2, 4096))
    .option("--repeats <n>", "real-size: alternating stream runs per side (default 3)", integer(1, 100))
    .option("--users <n>", "real-size: parallel users = slots on both sides (default 2)", integer(1, 64))
    .addOption(new Option("--backend <name>", "real-size: the council's chat backend, llama (in process, default) or llama-server (started by the bench)").choices(["llama", "llama-server"]))
    .action(perf);
  bench
    .command("improve")
    .description("Simulated users against a real server and the real nightly loop; writes results.json and chart.svg per cycle")
    .requiredOption("--traffic <path>", "traffic items: a JSONL file ({id, question, accept[]}) or a tldr pages folder (e.g. ../shared/datasets/tldr/pages)")
    .option("--pages <names>", "tldr pages to use, comma-separated (default: 48 common commands)")
    .option("--limit <n>", "at most this many traffic items (round-robin across pages)", integer(1, 100_000))
    .option("--eval <file>", "eval items JSONL (never indexed, never trained on); default with tldr traffic: generated from other examples of the same pages, rephrased, written to <out>/eval.jsonl")
    .option("--cycles <n>", "simulated days after the baseline, each preceded by one nightly run", integer(1, 100), 1)
    .option("--out <dir>", "output folder (default bench/results/improve-<date>)")
    .option("--corrections <p>", "share of 👎 that carry the right answer as a correction", fraction, 0)
    .option("--concurrency <n>", "questions in flight at once", integer(1, 256), 2)
    .option("--users <n>", "distinct simulated users (chat tokens)", integer(1, 10_000), 40)
    .option("--kb <dir>", "extra markdown folder to index as the knowledge base")
    .option("--work <dir>", "scratch folder for the server's data (default: a temp folder, removed afterwards)")
    .option("--keep-work", "keep the temp scratch folder")
    .option("--channels <list>", "what a night may release: memory,adapter | memory | adapter", channelList, ["memory", "adapter"])
    .action(improve);
}
