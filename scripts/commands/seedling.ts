import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { Option, type Command } from "commander";
import { CouncilError, loadConfig, SEEDLING_PATH } from "../../core/index.js";
import { buildReadingSeedling, COMPOSE_STAGE_RECIPE, continueReadingSeedling, FULL_READING_RECIPE, type ComposeStageRecipe, type ReadingSeedlingReport } from "../../council/reading/index.js";
import { ensureSeedling } from "../../models/seedling/index.js";

interface SeedlingBuildFlags {
  out: string;
  corpus?: string;
  ifMissing?: boolean;
  force?: boolean;
  cache: boolean;
  cacheDir?: string;
  threads: string;
  trainer?: string;
  json?: boolean;
  full?: boolean;
  tldr: string;
  python: string;
  workDir?: string;
  steps?: string;
  stage?: string;
  from?: string;
  composeSteps?: string;
}

function positiveSteps(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const steps = Number(value);
  if (!Number.isInteger(steps) || steps < 1) throw new CouncilError("CONFIG_INVALID", `${flag} must be a positive integer (got ${value})`);
  return steps;
}

export function register(program: Command): void {
  const seedling = program.command("seedling").description("The small model Council builds and pre-trains itself");
  seedling
    .command("build")
    .description("Build models/seedling.gguf from kb/ (BPE tokenizer, random init, llama-finetune pre-training); reuses the cache when nothing changed")
    .option("--out <path>", "output GGUF", SEEDLING_PATH)
    .option("--corpus <dir>", "knowledge-base folder (default: config kb.dir)")
    .option("--if-missing", "keep any valid existing output file")
    .option("--force", "rebuild even when the output or the cache is up to date")
    .option("--cache-dir <dir>", "cache folder (default: COUNCIL_CACHE_DIR or ~/.cache/council)")
    .option("--no-cache", "do not read or write the cache")
    .option("--threads <n>", "trainer threads", "2")
    .option("--trainer <path>", "llama-finetune binary (default: native/build/bin/llama-finetune)")
    .option("--json", "print the result as JSON")
    .option("--full", "the reading pre-training recipe (hours on 2 cores; needs Debian's python3-torch): builds the committed seedling from tldr pages")
    .option("--tldr <dir>", "tldr dataset root for --full (holds pages/ and HELD-OUT.txt)", "../shared/datasets/tldr")
    .option("--python <path>", "python with torch for --full", "/usr/bin/python3")
    .option("--work-dir <dir>", "keep --full's token files and weights here")
    .option("--steps <n>", "--full: train the reading stage exactly this many steps (no wall-clock budget), e.g. the committed model's recorded steps")
    .addOption(new Option("--stage <name>", "--full: reading (the committed model's recipe, from random weights) or compose (an experiment that continues --from with more compose examples; it did not help, see README Results)").choices(["reading", "compose"]).default("reading"))
    .option("--from <path>", "--stage compose: the reading seedling to continue (default: --out)")
    .option("--compose-steps <n>", "--stage compose: train exactly this many steps (no wall-clock budget)")
    .action(async (flags: SeedlingBuildFlags) => {
      const config = loadConfig();
      if (flags.full) {
        const threads = Number(flags.threads);
        const steps = positiveSteps(flags.steps, "--steps");
        const composeSteps = positiveSteps(flags.composeSteps, "--compose-steps");
        const recipe = steps === undefined ? FULL_READING_RECIPE : { ...FULL_READING_RECIPE, train: { ...FULL_READING_RECIPE.train, steps, maxMinutes: undefined } };
        const stage: ComposeStageRecipe = composeSteps === undefined ? COMPOSE_STAGE_RECIPE : { ...COMPOSE_STAGE_RECIPE, train: { ...COMPOSE_STAGE_RECIPE.train, steps: composeSteps, maxMinutes: undefined } };
        const out = resolve(flags.out);
        const common = {
          tldrRoot: resolve(flags.tldr),
          kbDir: resolve(flags.corpus ?? config.kb.dir),
          threads,
          python: flags.python,
          onProgress: (line: string) => {
            if (!flags.json) console.log(line);
          },
        };
        const workDir = flags.workDir === undefined ? {} : { workDir: resolve(flags.workDir) };
        const report: ReadingSeedlingReport =
          flags.stage === "compose"
            ? await continueReadingSeedling({ ...common, stage, from: resolve(flags.from ?? out), out, ...workDir })
            : await buildReadingSeedling({ ...common, recipe, out, ...workDir });
        if (flags.json) console.log(JSON.stringify({ path: resolve(flags.out), sha256: report.sha256, final: report.final, seconds: report.seconds }, null, 2));
        else console.log(`seedling built: ${resolve(flags.out)} (sha256 ${report.sha256.slice(0, 12)}, validation loss ${report.final.valLoss.toFixed(3)}, exact ${(report.final.exact * 100).toFixed(0)} %)`);
        return;
      }
      const cacheDir = flags.cache ? resolve(flags.cacheDir ?? config.cacheDir ?? join(homedir(), ".cache", "council")) : undefined;
      const threads = Number(flags.threads);
      if (!Number.isInteger(threads) || threads < 1) throw new CouncilError("CONFIG_INVALID", `--threads must be a positive integer (got ${flags.threads})`);
      const result = await ensureSeedling({
        out: resolve(flags.out),
        corpusDir: resolve(flags.corpus ?? config.kb.dir),
        cacheDir,
        ifMissing: flags.ifMissing,
        force: flags.force,
        threads,
        binary: flags.trainer === undefined ? undefined : resolve(flags.trainer),
        onProgress: (line) => {
          if (!flags.json) console.log(line);
        },
      });
      if (flags.json) {
        console.log(JSON.stringify(result, null, 2));
        return;
      }
      const loss = result.report?.validationLoss;
      const lossText = loss ? `, validation loss ${loss.before.toFixed(3)} → ${loss.after.toFixed(3)}` : "";
      console.log(`seedling ${result.source}: ${result.path} (key ${result.key}${lossText})`);
    });
}
