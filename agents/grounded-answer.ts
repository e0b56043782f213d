import type { PassageHit } from "../memory/types.js";
import { contentWords, overlap } from "./text.js";

/** A piece of a passage that can stand alone as an answer: a sentence, or a description with its command. */
interface Unit {
  text: string;
  /** Words the unit is matched on (its description, the sentence, or the Q: of a Q/A pair). */
  match: Set<string>;
  /** First word of a "Lead: …" bullet (e.g. "extract"). */
  lead?: string;
  /** A Q/A pair of the knowledge base. */
  qa?: boolean;
}

export interface GroundedAnswer {
  answer: string;
  passageId: string;
  /** Share of the question's content words found in the chosen unit. */
  coverage: number;
}

/**
 * An answer taken from the knowledge base: the unit (sentence, or tldr-style description + command) of
 * the retrieved passages that best covers the question, preferring higher-ranked passages on ties.
 * Undefined when there are no passages.
 */
export function groundedAnswer(question: string, passages: readonly PassageHit[]): GroundedAnswer | undefined {
  const questionWords = contentWords(question);
  let best: (GroundedAnswer & { rank: number }) | undefined;
  passages.slice(0, 5).forEach(({ passage }, index) => {
    const titleWords = contentWords(passage.title);
    for (const unit of splitUnits(passage.text)) {
      // The title counts a little ("tar" in the title answers "how do I use tar"); a unit whose lead word
      // the question names ("Extract: …") and a unit with a command are preferred on ties; so are higher-ranked passages.
      const coverage = overlap(questionWords, unit.match) + 0.25 * overlap(questionWords, titleWords);
      const rank = coverage + (unit.lead !== undefined && questionWords.has(unit.lead) ? 0.1 : 0) + (unit.text.includes("`") ? 0.05 : 0) + (unit.qa ? 0.1 : 0) - index * 0.05;
      if (best === undefined || rank > best.rank) best = { answer: unit.text, passageId: passage.id, coverage: Math.min(1, coverage), rank };
    }
  });
  if (best === undefined) return undefined;
  return { answer: best.answer, passageId: best.passageId, coverage: best.coverage };
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
const BULLET = /^[-*]\s+/;

/**
 * Splits markdown into answer units: tldr "- description:" + "`command`" pairs, bullets, "Q:"/"A:" pairs
 * (matched on the question, answered with the answer), and prose sentences. Wrapped lines are joined first.
 */
export function splitUnits(markdown: string): Unit[] {
  const units: Unit[] = [];
  let pending: string | undefined;
  let question: string | undefined;
  const flushPending = () => {
    if (pending !== undefined) units.push(unit(stripDescription(pending), pending));
    pending = undefined;
  };
  for (const block of blocks(markdown)) {
    if (block.kind === "fence") {
      if (pending !== undefined) {
        units.push(unit(commandAnswer(block.text, pending), pending));
        pending = undefined;
      } else units.push(unit(`Run \`${block.text}\`.`, block.text));
      continue;
    }
    const line = block.text;
    const command = COMMAND_LINE.exec(line);
    if (command) {
      const code = command[1]!.replace(/\{\{(.*?)\}\}/g, "$1").trim();
      units.push(pending === undefined ? unit(`Run \`${code}\`.`, code) : unit(commandAnswer(code, pending), pending));
      pending = undefined;
      continue;
    }
    if (line.startsWith("#") || /^>\s*More information/i.test(line)) continue;
    const qa = /^([QA]):\s*(.+)$/.exec(line);
    if (qa) {
      flushPending();
      if (qa[1] === "Q") question = qa[2]!;
      else if (question !== undefined) {
        units.push({ ...unit(qa[2]!, question), qa: true });
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
    for (const sentence of sentences(line.replace(/^>\s*/, ""))) units.push(unit(sentence, sentence));
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

function unit(text: string, matchText: string): Unit {
  const lead = /^([A-Za-z]+)\b[^:`]{0,30}:/.exec(matchText)?.[1]?.toLowerCase();
  return { text: text.trim(), match: contentWords(matchText.replace(/\[(\w)\]/g, "$1")), ...(lead === undefined ? {} : { lead }) };
}

/** "[c]reate an archive:" → "Create an archive" (tldr's mnemonic brackets and the trailing colon removed). */
function stripDescription(text: string): string {
  const clean = text.replace(/\[(\w)\]/g, "$1").replace(/[:.]\s*$/, "").trim();
  return clean.charAt(0).toUpperCase() + clean.slice(1);
}

function sentences(text: string): string[] {
  return text.split(/(?<=[.!?])\s+(?=[A-Z`])/).map((sentence) => sentence.trim()).filter((sentence) => sentence.length > 0);
}
