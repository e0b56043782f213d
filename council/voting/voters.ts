import { commandShape, commandsIn, contentWords, fitWords, hardChecks, overlap, parseQuestion, rankUnits, sameCommand, type RankedUnit } from "../../agents/index.js";
import type { PassageHit } from "../../memory/index.js";
import type { Ballot } from "./ballot.js";

/** A candidate answer on the ballot. */
export interface VoteCandidate {
  id: string;
  text: string;
  /** Where it came from ("llm", "knowledge-base", "correction"); candidates from one source never vouch for each other. */
  source: string;
}

export interface VoterInput {
  question: string;
  candidate: VoteCandidate;
  passages: readonly PassageHit[];
}

const round = (value: number) => Math.round(value * 1000) / 1000;

/**
 * The **grounding** voter: does the knowledge base say that this candidate's command does what THIS question asks?
 * It finds the retrieved unit the command comes from (same tool and options; other values count 0.8) and scores how
 * well that unit's *description* answers the question (see `taskFit`): a command copied from a passage about
 * something else scores low however many words it shares with the passages. A prose answer is matched to the unit
 * it repeats. Score 0 when nothing retrieved gives the answer.
 */
export function groundingBallot({ question, candidate, passages }: VoterInput): Ballot {
  const units = rankUnits(question, passages);
  const commands = commandsIn(candidate.text);
  let best: { score: number; unit: RankedUnit; match: number } | undefined;
  for (const ranked of units) {
    const match =
      commands.length > 0
        ? ranked.unit.command === undefined
          ? 0
          : Math.max(...commands.map((command) => sameCommand(command, ranked.unit.command!)))
        : sameText(candidate.text, ranked.unit.text)
          ? 1
          : 0;
    const score = match * ranked.fit.score;
    if (match > 0 && (best === undefined || score > best.score)) best = { score, unit: ranked, match };
  }
  if (best === undefined) {
    const what = commands.length > 0 ? `the command \`${commands[0]}\`` : "the answer";
    return { candidateId: candidate.id, voter: "grounding", score: 0, reason: `${what} is not in the retrieved knowledge` };
  }
  const { unit, match } = best;
  return {
    candidateId: candidate.id,
    voter: "grounding",
    score: round(best.score),
    reason:
      `${match < 1 ? "with other values, " : ""}the knowledge base gives it for "${unit.unit.description.slice(0, 120)}" (${unit.passageId}); ` +
      `that covers ${Math.round(unit.fit.recall * 100)}% of the question's words and ${Math.round(unit.fit.precision * 100)}% of it is asked for`,
  };
}

/** Numbers, file names, extensions and paths the question names ("8080", ".pdf", "tar.gz", "/var/log"): the answer must use them. */
function questionValues(task: string): string[] {
  const paths = task.match(/(?:^|\s)(?:~|\.{0,2}\/)[\w./~-]*/g) ?? [];
  const dotted = task.match(/[\w-]*\.[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)*/g) ?? [];
  const numbers = task.match(/\b[1-9]\d+\b/g) ?? [];
  return [...new Set([...paths, ...dotted, ...numbers].map((value) => value.trim().toLowerCase()))].filter((value) => value.length > 1);
}

/**
 * The **intent** voter: does the answer *itself* address the question, in the form asked? It reads only the
 * question and the candidate (never the knowledge base): the question's task words the answer covers, the tool the
 * question names (when it is a tool the retrieved knowledge knows), the values it names, and the format and safety
 * checks every answer must pass.
 */
export function intentBallot({ question, candidate, passages }: VoterInput): Ballot {
  const { task, tools } = parseQuestion(question);
  const taskWords = fitWords(task);
  const answerWords = fitWords(candidate.text);
  const reasons: string[] = [];
  let covered = 0;
  for (const word of taskWords) if (answerWords.has(word)) covered++;
  const recall = taskWords.size === 0 ? 1 : covered / taskWords.size;
  reasons.push(`the answer covers ${Math.round(recall * 100)}% of the question's task words`);
  let score = recall * recall;
  const known = new Set(rankUnits(question, passages).map((ranked) => (ranked.unit.command === undefined ? undefined : commandShape(ranked.unit.command)?.tool)));
  const named = tools.filter((tool) => known.has(tool));
  const answerTools = commandsIn(candidate.text).map((command) => commandShape(command)?.tool);
  if (named.length > 0) {
    if (answerTools.some((tool) => tool !== undefined && named.includes(tool))) reasons.push(`uses ${named.join("/")}, as asked`);
    else {
      score *= 0.1;
      reasons.push(`the question asks about ${named.join("/")}, the answer does not use it`);
    }
  }
  const values = questionValues(task);
  if (values.length > 0) {
    const text = candidate.text.toLowerCase();
    const used = values.filter((value) => text.includes(value)).length;
    score *= 0.5 + 0.5 * (used / values.length);
    reasons.push(`uses ${used} of the ${values.length} value(s) the question names`);
  }
  for (const check of hardChecks({ answer: candidate.text })) {
    score = Math.min(score, check.cap);
    reasons.push(check.reason);
  }
  return { candidateId: candidate.id, voter: "intent", score: round(score), reason: reasons.join("; ") };
}

/**
 * The **peers** voter: candidates from *other* sources that give the same command (same tool and options). It never
 * compares a candidate with itself or with candidates of its own source, and casts no ballot when no other source
 * agrees (silence is no evidence); candidates with the same text were merged before the vote.
 */
export function peersBallot({ candidate, others }: { candidate: VoteCandidate & { sources: readonly string[] }; others: ReadonlyArray<VoteCandidate & { sources: readonly string[] }> }): Ballot | undefined {
  const mine = commandsIn(candidate.text);
  if (mine.length === 0) return undefined;
  const agreeing = others.filter(
    (other) => other.id !== candidate.id && !other.sources.some((source) => candidate.sources.includes(source)) && commandsIn(other.text).some((theirs) => mine.some((command) => sameCommand(command, theirs) > 0)),
  );
  if (agreeing.length === 0) return undefined;
  const sources = [...new Set(agreeing.flatMap((other) => other.sources))];
  return { candidateId: candidate.id, voter: "peers", score: 1, reason: `the ${sources.join(" and ")} candidate${sources.length > 1 ? "s give" : " gives"} the same command` };
}

/** Two texts say the same: each has ≥ 90 % of the other's content words. */
function sameText(a: string, b: string): boolean {
  const x = contentWords(a);
  const y = contentWords(b);
  return x.size > 0 && overlap(x, y) >= 0.9 && overlap(y, x) >= 0.9;
}
