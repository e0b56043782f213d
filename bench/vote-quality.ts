/**
 * Vote-quality benchmark: how often Agent-0 proposes a right rewrite, and whether the council's vote accepts the
 * right ones and says no to the wrong ones — without a language model (Agent-0 in heuristic mode: no LLM candidate;
 * no model critic), on the default tldr bench.
 *
 * The tldr bench (bench/improve/tldr.ts) gives traffic items ("How do I <description> using <name>?") and eval
 * items (other examples of the same pages, paraphrased). Its knowledge-base pages are indexed together with the
 * project's kb/ in a MarkdownKnowledgeBase with hash embeddings, as the runtime does (kb.dir + kb.extraDirs).
 * Every item is treated as a failed turn: Agent-0 proposes candidates from the passages retrieved for it, the
 * council votes (council/voting councilVote), and each candidate is judged by the item's accept regex.
 *
 * A third set asks the traffic items in the eval items' words (paraphrased traffic: their examples are indexed).
 * Reported per item set: retrieval (the item's page among the top-3 passages), candidates (≥ 1 right candidate:
 * target ≥ 90 % on traffic), the first grounded candidate alone, and the vote's precision (accepted rewrites that
 * pass: target ≥ 0.9) and recall (items with a right candidate whose accepted rewrite is right: target ≥ 0.7), and
 * whether the vote says no when only the wrong candidates are left on the ballot (wrongOnlyAccepted: lower is better).
 *
 *   npx tsx bench/vote-quality.ts [--root /work/shared/datasets/tldr/pages] [--k 3] [--candidates 3]
 *
 * Writes bench/results/vote-quality-<date>.json. Scratch data goes to bench/scratch/ (gitignored).
 */
import { readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Agent0 } from "../agents/index.js";
import { councilVote } from "../council/index.js";
import { PROJECT_ROOT } from "../core/index.js";
import { judgeAnswer } from "../graphs/improve/index.js";
import { MarkdownKnowledgeBase } from "../memory/index.js";
import { HashEmbeddings } from "../models/index.js";
import { FakeChatModel } from "../test/fakes/index.js";
import { buildTldrBench, findTldrPage, parseTldrPage, rephraseQuestion, type TldrItem } from "./improve/tldr.js";

const { values } = parseArgs({
  options: {
    root: { type: "string", default: "/work/shared/datasets/tldr/pages" },
    k: { type: "string", default: "3" },
    candidates: { type: "string", default: "3" },
    quorum: { type: "string", default: "2" },
    "accept-score": { type: "string", default: "0.7" },
  },
});
const k = Number(values.k);
const quorum = Number(values.quorum);
const acceptScore = Number(values["accept-score"]);

interface ItemResult {
  id: string;
  question: string;
  pageRetrieved: boolean;
  candidates: number;
  rightCandidates: number;
  firstGroundedRight: boolean;
  accepted: boolean;
  acceptedRight: boolean;
  /** The vote again with every right candidate removed (only wrong ones left): did it still accept one? */
  wrongOnlyAccepted: boolean | null;
  wrongOnlyWinner?: string;
  winner: string | null;
  reason: string;
}

/**
 * The traffic items asked the way eval items are (rephraseQuestion: another frame, a few synonyms): their examples
 * are in the knowledge base, so a right candidate can be found. Eval items' own examples are not (they are removed
 * from the indexed pages), so a right eval candidate exists only where another example of the page has the same options.
 */
function paraphrasedTraffic(items: readonly TldrItem[]): TldrItem[] {
  const pages = new Map<string, ReturnType<typeof parseTldrPage>>();
  return items.map((item) => {
    let examples = pages.get(item.page);
    if (examples === undefined) {
      examples = parseTldrPage({ page: item.page, markdown: readFileSync(findTldrPage({ root: values.root, page: item.page })!, "utf8") });
      pages.set(item.page, examples);
    }
    const index = Number(item.id.slice(item.id.lastIndexOf("-") + 1));
    const example = examples[index]!;
    return { ...item, id: `${item.id}-para`, question: rephraseQuestion({ description: example.description, name: item.page.replace(/-/g, " "), index }) };
  });
}

async function main() {
  const started = Date.now();
  const bench = buildTldrBench({ root: values.root });
  const scratch = join(PROJECT_ROOT, "bench", "scratch", `vote-quality-${process.pid}`);
  await rm(scratch, { recursive: true, force: true });
  await mkdir(join(scratch, "tldr"), { recursive: true });
  for (const { page, markdown } of bench.kbPages) await writeFile(join(scratch, "tldr", `${page}.md`), markdown);
  const knowledgeBase = await MarkdownKnowledgeBase.create({ storePath: join(scratch, "kb.sqlite"), embeddings: new HashEmbeddings({ dimensions: 384 }) });
  try {
    await knowledgeBase.index(join(PROJECT_ROOT, "kb"));
    await knowledgeBase.index(join(scratch, "tldr"));
    // Heuristic mode: the model is never called (FakeChatModel throws on any call it was not scripted for).
    const agent0 = new Agent0({ model: new FakeChatModel(), knowledgeBase, mode: "heuristic", k, groundedCandidates: Number(values.candidates) });

    const run = async (item: TldrItem): Promise<ItemResult> => {
      const passages = await knowledgeBase.search(item.question, { k });
      const rewrite = await agent0.rewrite({ question: item.question, failedAnswer: "I don't know.", passages });
      const candidates = rewrite.candidates.map((candidate) => ({ id: candidate.id, text: candidate.answer, source: candidate.source === "kb-grounded" ? "knowledge-base" : candidate.source }));
      const right = new Set(candidates.filter((candidate) => judgeAnswer(item, candidate.text)).map((candidate) => candidate.id));
      const vote = await councilVote({ question: item.question, candidates, passages, quorum, acceptScore });
      const wrongOnly = candidates.filter((candidate) => !right.has(candidate.id));
      const saysNo = wrongOnly.length === 0 ? null : await councilVote({ question: item.question, candidates: wrongOnly, passages, quorum, acceptScore });
      return {
        id: item.id,
        question: item.question,
        pageRetrieved: passages.some(({ passage }) => passage.source.replace(/^.*\//, "") === `${item.page}.md`),
        candidates: candidates.length,
        rightCandidates: right.size,
        firstGroundedRight: candidates[0] !== undefined && right.has(candidates[0].id),
        accepted: vote.accepted,
        acceptedRight: vote.accepted && vote.winnerId !== null && right.has(vote.winnerId),
        wrongOnlyAccepted: saysNo === null ? null : saysNo.accepted,
        ...(saysNo?.accepted ? { wrongOnlyWinner: wrongOnly.find((candidate) => candidate.id === saysNo.winnerId)?.text ?? "" } : {}),
        winner: vote.winnerId === null ? null : (candidates.find((candidate) => candidate.id === vote.winnerId)?.text ?? null),
        reason: vote.reason,
      };
    };

    const report = async (name: string, items: TldrItem[]) => {
      const results: ItemResult[] = [];
      for (const item of items) results.push(await run(item));
      const count = (predicate: (result: ItemResult) => boolean) => results.filter(predicate).length;
      const share = (part: number, whole: number) => (whole === 0 ? null : Math.round((part / whole) * 1000) / 1000);
      const withRight = count((result) => result.rightCandidates > 0);
      const accepted = count((result) => result.accepted);
      const acceptedRight = count((result) => result.acceptedRight);
      const summary = {
        items: results.length,
        pageRetrievedTop3: share(count((result) => result.pageRetrieved), results.length),
        firstGroundedRight: share(count((result) => result.firstGroundedRight), results.length),
        withRightCandidate: share(withRight, results.length),
        accepted,
        acceptedRight,
        precision: share(acceptedRight, accepted),
        recall: share(acceptedRight, withRight),
        wrongOnlySlates: count((result) => result.wrongOnlyAccepted !== null),
        wrongOnlyAccepted: share(count((result) => result.wrongOnlyAccepted === true), count((result) => result.wrongOnlyAccepted !== null)),
        meanCandidates: share(results.reduce((sum, result) => sum + result.candidates, 0), results.length),
      };
      console.log(`${name.padEnd(8)} ${JSON.stringify(summary)}`);
      return {
        summary,
        wrongAccepted: results.filter((result) => result.accepted && !result.acceptedRight),
        wrongOnlyAccepted: results.filter((result) => result.wrongOnlyAccepted === true).slice(0, 40), missed: results.filter((result) => result.rightCandidates > 0 && !result.acceptedRight).slice(0, 40) };
    };

    const traffic = await report("traffic", bench.traffic);
    const paraphrased = await report("para", paraphrasedTraffic(bench.traffic));
    const evalItems = await report("eval", bench.eval);
    const date = new Date(started).toISOString().slice(0, 10);
    const out = join(PROJECT_ROOT, "bench", "results", `vote-quality-${date}.json`);
    await mkdir(join(PROJECT_ROOT, "bench", "results"), { recursive: true });
    await writeFile(
      out,
      `${JSON.stringify(
        {
          startedAt: new Date(started).toISOString(),
          seconds: Math.round((Date.now() - started) / 100) / 10,
          settings: { root: values.root, pages: bench.kbPages.length, k, groundedCandidates: Number(values.candidates), quorum, acceptScore, llm: "none (Agent-0 heuristic, no model critic)", embeddings: "hash 384" },
          targets: { withRightCandidateTraffic: 0.9, precision: 0.9, recall: 0.7 },
          traffic,
          paraphrasedTraffic: paraphrased,
          eval: evalItems,
        },
        null,
        2,
      )}\n`,
    );
    console.log(`wrote ${out}`);
  } finally {
    await knowledgeBase.dispose();
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
