import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { CouncilError, editorCommand, loadConfig } from "../../core/index.js";
import { ReviewQueue, reviewQueuePath, type ReviewItem } from "../../graphs/improve/index.js";
import { openEventLog } from "../../memory/index.js";
import { cliActor } from "./cli-actor.js";
import { orderedCandidates, renderReviewItem, reviewKeyAction } from "./review-view.js";

interface ReviewOptions {
  list?: boolean;
  all?: boolean;
  json?: boolean;
  decide?: string[];
  candidate?: string;
  text?: string;
  actor?: string;
}


export function register(program: Command): void {
  program
    .command("review")
    .description("Work through the review queue: rewrites the council scored between the review and the accept bar. Keys: a accept best, 1-9 accept that candidate, e edit, r reject, s skip, q quit")
    .option("--list", "list the pending items and exit")
    .option("--all", "with --list: decided items too")
    .option("--json", "machine-readable output (with --list or --decide)")
    .option("--decide <decision...>", "decide without the screen: <id> accept|reject")
    .option("--candidate <n>", "with --decide accept: the candidate's number on the screen (1 = the council's best) or its id")
    .option("--text <answer>", "with --decide accept: an edited answer to train on instead of the candidate's text")
    .option("--actor <name>", "who decides (recorded on the event and the ballot); default: your OS user name")
    .action(async (options: ReviewOptions) => {
      const config = loadConfig();
      const events = await openEventLog({ config });
      const queue = new ReviewQueue({ path: reviewQueuePath(config), ...(events ? { events } : {}) });
      const actor = options.actor ?? cliActor();
      if (options.decide !== undefined) return decide({ queue, actor, options });
      if (options.list) {
        const items = options.all ? await queue.items() : await queue.pending();
        if (options.json) console.log(JSON.stringify(items, null, 2));
        else if (items.length === 0) console.log("The review queue is empty.");
        else for (const item of items) console.log(`${item.id}  ${item.status.padEnd(8)}  ${item.winnerScore.toFixed(2)}  ${item.question}`);
        return;
      }
      await interactive({ queue, actor });
    });
}

async function decide({ queue, actor, options }: { queue: ReviewQueue; actor: string; options: ReviewOptions }): Promise<void> {
  const [id, choice, ...rest] = options.decide!;
  if (id === undefined || (choice !== "accept" && choice !== "reject") || rest.length > 0) throw new CouncilError("CONFIG_INVALID", "Use: council review --decide <id> accept|reject [--candidate N] [--text ...]");
  const item = (await queue.items()).find((candidate) => candidate.id === id);
  if (item === undefined) throw new CouncilError("REVIEW_NOT_FOUND", `No review item ${id}; list them with: npx council review --list`);
  const candidateId = options.candidate === undefined ? undefined : /^\d+$/.test(options.candidate) ? orderedCandidates(item)[Number(options.candidate) - 1]?.id : options.candidate;
  if (options.candidate !== undefined && candidateId === undefined) throw new CouncilError("CONFIG_INVALID", `Review item ${id} has ${item.candidates.length} candidate(s); --candidate ${options.candidate} is not one.`);
  const decided = await queue.decide({ id, actor, choice, ...(candidateId !== undefined ? { candidateId } : {}), ...(options.text !== undefined ? { editedText: options.text } : {}) });
  console.log(options.json ? JSON.stringify(decided, null, 2) : `${decided.id}: ${decided.status} by ${actor}; the next nightly run ${decided.status === "accepted" ? "trains on it" : "drops it"}.`);
}

/** Reads single keys (raw mode on a terminal, characters from a pipe) and whole lines for edits. */
function keyReader(input: NodeJS.ReadStream) {
  const buffered: string[] = [];
  let ended = false;
  let waiting: { line: boolean; resolve: (value: string | null) => void } | null = null;
  const raw = (on: boolean) => {
    if (input.isTTY) input.setRawMode(on);
  };
  const flush = () => {
    if (waiting === null) return;
    if (!waiting.line) {
      while (buffered[0] === "\n" || buffered[0] === "\r") buffered.shift();
      if (buffered.length === 0 && !ended) return;
      const { resolve } = waiting;
      waiting = null;
      resolve(buffered.shift() ?? null);
      return;
    }
    // From a pipe, the key that asked for the line ends its own line: skip that line end.
    if (!input.isTTY) while (buffered[0] === "\n" || buffered[0] === "\r") buffered.shift();
    const end = buffered.findIndex((char) => char === "\n" || char === "\r");
    if (end === -1 && !ended) return;
    const { resolve } = waiting;
    waiting = null;
    const taken = buffered.splice(0, end === -1 ? buffered.length : end + 1);
    resolve(taken.length === 0 ? null : taken.join("").replace(/[\r\n]$/, ""));
  };
  input.setEncoding("utf8");
  input.on("data", (chunk: string) => {
    buffered.push(...chunk);
    flush();
  });
  input.on("end", () => {
    ended = true;
    flush();
  });
  raw(true);
  return {
    key: () => new Promise<string | null>((resolve) => ((waiting = { line: false, resolve }), flush())),
    line: async () => {
      raw(false);
      const line = await new Promise<string | null>((resolve) => ((waiting = { line: true, resolve }), flush()));
      raw(true);
      return line;
    },
    close: () => {
      raw(false);
      input.pause();
    },
  };
}

/** $EDITOR on a temp file holding the answer, or (without one) one line read from the terminal. Empty: no edit. */
async function editAnswer({ text, reader }: { text: string; reader: ReturnType<typeof keyReader> }): Promise<string | null> {
  const editor = editorCommand();
  if (editor === undefined) {
    process.stdout.write("Edited answer (one line, empty to cancel): ");
    const line = await reader.line();
    return line === null || line.trim() === "" ? null : line.trim();
  }
  const dir = await mkdtemp(join(tmpdir(), "council-review-"));
  try {
    const file = join(dir, "answer.md");
    await writeFile(file, text);
    const result = spawnSync(editor, [file], { stdio: "inherit", shell: true });
    if (result.status !== 0) return null;
    const edited = (await readFile(file, "utf8")).trim();
    return edited === "" ? null : edited;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function interactive({ queue, actor }: { queue: ReviewQueue; actor: string }): Promise<void> {
  const items: ReviewItem[] = await queue.pending();
  if (items.length === 0) {
    console.log("The review queue is empty.");
    return;
  }
  const reader = keyReader(process.stdin);
  const counts = { accepted: 0, rejected: 0, skipped: 0 };
  try {
    for (let index = 0; index < items.length; index++) {
      const item = items[index]!;
      console.log(`\n${renderReviewItem({ item, position: index + 1, total: items.length })}`);
      for (;;) {
        const key = await reader.key();
        const action = key === null ? ({ kind: "quit" } as const) : reviewKeyAction(key, item);
        if (action.kind === "unknown") {
          console.log(`Unknown key ${JSON.stringify(action.key)}.`);
          continue;
        }
        if (action.kind === "quit") return;
        if (action.kind === "skip") counts.skipped++;
        else if (action.kind === "reject") {
          await queue.decide({ id: item.id, actor, choice: "reject" });
          counts.rejected++;
        } else {
          const text = item.candidates.find((candidate) => candidate.id === action.candidateId)!.text;
          const editedText = action.kind === "edit" ? await editAnswer({ text, reader }) : undefined;
          if (editedText === null) {
            console.log("No edit; choose again.");
            continue;
          }
          await queue.decide({ id: item.id, actor, choice: "accept", candidateId: action.candidateId, ...(editedText !== undefined ? { editedText } : {}) });
          counts.accepted++;
        }
        console.log(action.kind === "skip" ? "skipped" : action.kind === "reject" ? "rejected" : "accepted");
        break;
      }
    }
  } finally {
    reader.close();
    console.log(`\nReviewed: ${counts.accepted} accepted, ${counts.rejected} rejected, ${counts.skipped} skipped. The next nightly run uses the decisions.`);
  }
}
