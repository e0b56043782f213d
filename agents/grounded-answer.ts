import type { PassageHit } from "../memory/index.js";
import { distinctiveWords, type DocumentFrequency } from "./distinctive-words.js";
import { coveredWords, fitWords, parseQuestion, taskFit, type Fit } from "./question-fit.js";
import { checkShellCommand, commandShape, commandsIn, renderTldrCommand } from "./shell-command.js";
import { contentWords, overlap } from "./text.js";

/** A piece of a passage that can stand alone as an answer: a sentence, or a description with its command. */
export interface Unit {
  text: string;
  /** What the unit says it does: a tldr description, a Q: question, or the sentence without its code. */
  description: string;
  /** Words that tell what the unit is about without describing it (its code), matched for recall only. */
  about: string;
  /** The unit's command, as a person would type it. */
  command?: string;
  /** First word of a "Lead: …" bullet (e.g. "extract"). */
  lead?: string;
  /** A Q/A pair of the knowledge base. */
  qa?: boolean;
}

export interface GroundedAnswer {
  answer: string;
  passageId: string;
  /** Share of the question's task words the chosen unit covers. */
  coverage: number;
  /** How well the unit's description answers the question (see {@link taskFit}). */
  fit: number;
  /** The unit's description (what its command does). */
  description: string;
  command?: string;
  /** The question's distinctive words (see {@link distinctiveWords}) when the unit covers none of them. */
  missing?: string[];
}

export interface RankedUnit {
  unit: Unit;
  passageId: string;
  /** Position of the passage in the retrieval order. */
  passageRank: number;
  fit: Fit;
  rank: number;
}

/**
 * Every unit of the first `passages` retrieved passages, best first, with how well it answers the question:
 * the question's task (its asking frame such as "How do I … using tar?" stripped) against the unit's
 * description, so a verbatim or near-verbatim description wins. Ties go to a unit whose command is the tool
 * the question names, whose lead word the question names, a Q/A pair, a unit with a command, a passage whose
 * title the question names, and higher-ranked passages. Units whose command does not parse are left out.
 */
export function rankUnits(question: string, hits: readonly PassageHit[], { passages = 5 }: { passages?: number } = {}): RankedUnit[] {
  const { task, tools } = parseQuestion(question);
  const taskWords = fitWords(task);
  const questionWords = contentWords(question);
  const ranked: RankedUnit[] = [];
  const all = hits.slice(0, passages).map(({ passage }) => ({ passage, units: splitUnits(passage.text) }));
  const knownTools = new Set(all.flatMap(({ units }) => units.map((unit) => (unit.command === undefined ? undefined : commandShape(unit.command)?.tool))).filter((tool) => tool !== undefined));
  const named = tools.filter((tool) => knownTools.has(tool));
  all.forEach(({ passage, units }, passageRank) => {
    for (const unit of units) {
      if (!commandsIn(unit.text).every((command) => checkShellCommand(command).success)) continue;
      // The passage title is no evidence for one unit (every unit of a "Resetting your password" section would cover
      // "reset password"); it only breaks ties.
      const fit = taskFit({ task: taskWords, description: unit.description, about: unit.about, leadMustMatch: !unit.qa });
      const titled = overlap(taskWords, fitWords(passage.title)) * 0.05;
      const tool = unit.command === undefined ? undefined : commandShape(unit.command)?.tool;
      const toolBonus = named.length === 0 || tool === undefined ? 0 : named.includes(tool) ? 0.15 : -0.15;
      const rank =
        fit.score + titled + toolBonus + (unit.lead !== undefined && questionWords.has(unit.lead) ? 0.1 : 0) + (unit.qa ? 0.1 : 0) + (unit.command === undefined ? 0 : 0.02) - passageRank * 0.02;
      ranked.push({ unit, passageId: passage.id, passageRank, fit, rank });
    }
  });
  return ranked.sort((a, b) => b.rank - a.rank || a.passageRank - b.passageRank);
}

export interface GroundedOptions {
  /**
   * How many knowledge-base passages hold a word: with it, each answer names the question's distinctive words it
   * misses (`missing`). @default none (no rarity check)
   */
  documentFrequency?: DocumentFrequency;
}

/**
 * Answers taken from the knowledge base: the best `limit` distinct units of the retrieved passages (see
 * {@link rankUnits}), each a different answer. Empty when there are no passages.
 */
export function groundedAnswers(question: string, hits: readonly PassageHit[], { limit = 3, documentFrequency }: { limit?: number } & GroundedOptions = {}): GroundedAnswer[] {
  const out: GroundedAnswer[] = [];
  const distinctive = documentFrequency === undefined ? new Set<string>() : distinctiveWords(question, hits, documentFrequency);
  for (const { unit, passageId, fit } of rankUnits(question, hits)) {
    if (out.length >= limit) break;
    if (out.some((answer) => answer.answer === unit.text || (unit.command !== undefined && answer.command === unit.command))) continue;
    const missing = missedWords(unit, distinctive);
    out.push({
      answer: unit.text,
      passageId,
      coverage: Math.min(1, fit.recall),
      fit: fit.score,
      description: unit.description,
      ...(unit.command === undefined ? {} : { command: unit.command }),
      ...(missing === undefined ? {} : { missing }),
    });
  }
  return out;
}

/** The distinctive words a unit covers none of (undefined when it covers one, or there are none). */
export function missedWords(unit: Pick<Unit, "description" | "about">, distinctive: ReadonlySet<string>): string[] | undefined {
  if (distinctive.size === 0) return undefined;
  const covered = coveredWords(unit);
  return [...distinctive].some((word) => covered.has(word)) ? undefined : [...distinctive].sort();
}

/** The best answer taken from the knowledge base (see {@link groundedAnswers}); undefined when there are no passages. */
export function groundedAnswer(question: string, passages: readonly PassageHit[], options: GroundedOptions = {}): GroundedAnswer | undefined {
  return groundedAnswers(question, passages, { ...options, limit: 1 })[0];
}

/**
 * A description with its command, command first: "`tar czf path/to/target.tar.gz path/to/file1` — create a
 * gzipped archive and write it to a file." The command is the part that must be right, so it comes before the
 * words that only restate the question (and is what a small adapter learns first and a length limit never cuts).
 */
function commandAnswer(code: string, description: string): string {
  const text = stripDescription(description);
  const lead = /^[A-Z][a-z]/.test(text) ? text.charAt(0).toLowerCase() + text.slice(1) : text;
  return `\`${code}\` — ${lead}.`;
}

const COMMAND_LINE = /^`([^`]+)`$/;
const FENCE = /^```/;
const BULLET = /^(?:[-*]|\d{1,2}[.)])\s+/;

/**
 * Splits markdown into answer units: tldr "- description:" + "`command`" pairs, bullets, "Q:"/"A:" pairs
 * (matched on the question, answered with the answer), and prose sentences. Wrapped lines are joined first.
 */
export function splitUnits(markdown: string): Unit[] {
  const units: Unit[] = [];
  let pending: string | undefined;
  let question: string | undefined;
  const flushPending = () => {
    if (pending !== undefined) units.push(proseUnit(stripDescription(pending), pending));
    pending = undefined;
  };
  for (const block of blocks(markdown)) {
    if (block.kind === "fence") {
      if (pending !== undefined) {
        units.push(commandUnit(block.text, pending));
        pending = undefined;
      } else units.push(commandUnit(block.text));
      continue;
    }
    const line = block.text;
    const command = COMMAND_LINE.exec(line);
    if (command) {
      units.push(commandUnit(renderTldrCommand(command[1]!), pending, tldrLiterals(command[1]!)));
      pending = undefined;
      continue;
    }
    if (line.startsWith("#") || /^>\s*More information/i.test(line)) continue;
    const qa = /^([QA]):\s*(.+)$/.exec(line);
    if (qa) {
      flushPending();
      if (qa[1] === "Q") question = qa[2]!;
      else if (question !== undefined) {
        units.push({ ...proseUnit(qa[2]!, question), description: parseQuestion(question).task, about: qa[2]!, qa: true });
        question = undefined;
      }
      continue;
    }
    // A bullet, or a line ending with ":" (a tldr description as the knowledge base stores it), waits for its command.
    if (BULLET.test(line) || /:\s*$/.test(line)) {
      flushPending();
      pending = line.replace(BULLET, "");
      continue;
    }
    flushPending();
    for (const sentence of sentences(line.replace(/^>\s*/, ""))) units.push(proseUnit(sentence, sentence));
  }
  flushPending();
  return units.filter((entry) => entry.text.length > 0);
}

/** Lines joined into logical blocks: a bullet or paragraph with its wrapped continuation lines, or a fenced code block. */
function blocks(markdown: string): Array<{ kind: "line" | "fence"; text: string }> {
  const out: Array<{ kind: "line" | "fence"; text: string }> = [];
  const lines = markdown.replace(/\r\n/g, "\n").split("\n");
  let fence: string[] | undefined;
  let current: string | undefined;
  let bullet = false;
  const flush = () => {
    if (current !== undefined) out.push({ kind: "line", text: current });
    current = undefined;
  };
  for (const raw of lines) {
    const line = raw.trim();
    if (FENCE.test(line)) {
      flush();
      if (fence === undefined) fence = [];
      else {
        if (fence.length > 0) out.push({ kind: "fence", text: fence.join("; ") });
        fence = undefined;
      }
      continue;
    }
    if (fence !== undefined) {
      if (line.length > 0) fence.push(line);
      continue;
    }
    if (line.length === 0) {
      flush();
      continue;
    }
    const startsBlock = BULLET.test(line) || line.startsWith("#") || /^[QA]:/.test(line) || COMMAND_LINE.test(line) || line.startsWith(">");
    // A bullet continues only on indented lines; a paragraph on any line.
    if (startsBlock || current === undefined || (bullet && !/^\s/.test(raw))) {
      flush();
      current = line;
      bullet = BULLET.test(line);
    } else {
      current += ` ${line}`;
    }
    if (line.startsWith("#") || COMMAND_LINE.test(line)) flush();
  }
  flush();
  return out;
}

/** A command unit: the command with its description ("`tar xf …` — extract …"), or "Run `…`." without one. */
function commandUnit(code: string, description?: string, about = code.trim()): Unit {
  const command = code.trim();
  if (description === undefined) return { text: `Run \`${command}\`.`, description: "", about, command };
  return { ...leadOf(description), text: commandAnswer(command, description), description: stripDescription(description), about, command };
}

/**
 * What a tldr command says about itself: its literal words and options, and the file types its placeholders name
 * (`tar xzf {{path/to/target.tar.gz}}` → "tar xzf tar gz"), never the placeholder words ("path", "file") that
 * would match any question.
 */
function tldrLiterals(command: string): string {
  return command.replace(/\{\{(.*?)\}\}/g, (_match, inner: string) => {
    const option = /^\[(-[^|\]]+)\|/.exec(inner);
    if (option) return option[1]!;
    return ` ${[...inner.matchAll(/\.([A-Za-z][A-Za-z0-9]{0,4})\b/g)].map((match) => match[1]).join(" ")} `;
  });
}

/** A prose unit (sentence, bullet, Q/A answer): described by its words outside code, about its code. */
function proseUnit(text: string, matchText: string): Unit {
  const spans = [...matchText.matchAll(/`([^`\n]+)`/g)].map((match) => match[1]!);
  const command = commandsIn(text)[0];
  return {
    ...leadOf(matchText),
    text: text.trim(),
    description: matchText
      .replace(/`[^`\n]+`/g, " ")
      .replace(/\s+([.,;:!?)])/g, "$1")
      .replace(/[\s(]*\((?:for example|e\.g\.)?[\s,]*\)/g, "")
      .replace(/[\s.:;,]+$/, "")
      .replace(/\s+/g, " ")
      .trim(),
    about: spans.join(" "),
    ...(command === undefined ? {} : { command }),
  };
}

function leadOf(matchText: string): { lead?: string } {
  const lead = /^([A-Za-z]+)\b[^:`]{0,30}:/.exec(matchText)?.[1]?.toLowerCase();
  return lead === undefined ? {} : { lead };
}

/** "[c]reate an archive:" → "Create an archive" (tldr's mnemonic brackets and the trailing colon removed). */
function stripDescription(text: string): string {
  const clean = text.replace(/\[(\w)\]/g, "$1").replace(/[:.]\s*$/, "").trim();
  return clean.charAt(0).toUpperCase() + clean.slice(1);
}

function sentences(text: string): string[] {
  return text.split(/(?<=[.!?])\s+(?=[A-Z`])/).map((sentence) => sentence.trim()).filter((sentence) => sentence.length > 0);
}
