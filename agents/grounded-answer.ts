import type { PassageHit } from "../memory/types.js";
import { contentWords, overlap } from "./text.js";

/** A piece of a passage that can stand alone as an answer: a sentence, or a description with its command. */
interface Unit {
  text: string;
  /** Words the unit is matched on (its description, or the sentence). */
  match: Set<string>;
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
    const units = splitUnits(passage.text);
    const titleWords = contentWords(passage.title);
    for (const unit of units) {
      // The title counts a little: "tar" in the title answers "how do I use tar".
      const coverage = overlap(questionWords, unit.match) + 0.25 * overlap(questionWords, titleWords);
      const rank = coverage - index * 0.05;
      if (best === undefined || rank > best.rank) best = { answer: unit.text, passageId: passage.id, coverage: Math.min(1, coverage), rank };
    }
  });
  if (best === undefined) return undefined;
  return { answer: best.answer, passageId: best.passageId, coverage: best.coverage };
}

const COMMAND_LINE = /^\s*`([^`]+)`\s*$/;
const FENCE = /^\s*```/;

/** Splits markdown into answer units: tldr "- description:" + "`command`" pairs, and prose sentences. */
export function splitUnits(markdown: string): Unit[] {
  const units: Unit[] = [];
  const lines = markdown.split("\n");
  let pending: string | undefined;
  let inFence = false;
  let fence: string[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (FENCE.test(line)) {
      if (inFence && fence.length > 0 && pending !== undefined) {
        units.push(unit(`${stripDescription(pending)}: \`${fence.join("; ")}\``, pending));
        pending = undefined;
      }
      inFence = !inFence;
      fence = [];
      continue;
    }
    if (inFence) {
      if (line.length > 0) fence.push(line);
      continue;
    }
    const command = COMMAND_LINE.exec(line);
    if (command) {
      const code = command[1]!.replace(/\{\{(.*?)\}\}/g, "$1").trim();
      units.push(pending === undefined ? unit(`Run \`${code}\`.`, code) : unit(`${stripDescription(pending)}: \`${code}\``, pending));
      pending = undefined;
      continue;
    }
    if (line.length === 0 || line.startsWith("#") || /^>\s*More information/i.test(line)) continue;
    if (line.startsWith("- ") || line.startsWith("* ")) {
      if (pending !== undefined) units.push(unit(stripDescription(pending), pending));
      pending = line.slice(2);
      continue;
    }
    if (pending !== undefined) {
      units.push(unit(stripDescription(pending), pending));
      pending = undefined;
    }
    for (const sentence of sentences(line.replace(/^>\s*/, ""))) units.push(unit(sentence, sentence));
  }
  if (pending !== undefined) units.push(unit(stripDescription(pending), pending));
  return units.filter((entry) => entry.text.length > 0);
}

function unit(text: string, matchText: string): Unit {
  return { text: text.trim(), match: contentWords(matchText.replace(/\[(\w)\]/g, "$1")) };
}

/** "[c]reate an archive:" → "Create an archive" (tldr's mnemonic brackets and the trailing colon removed). */
function stripDescription(text: string): string {
  const clean = text.replace(/\[(\w)\]/g, "$1").replace(/[:.]\s*$/, "").trim();
  return clean.charAt(0).toUpperCase() + clean.slice(1);
}

function sentences(text: string): string[] {
  return text.split(/(?<=[.!?])\s+(?=[A-Z`])/).map((sentence) => sentence.trim()).filter((sentence) => sentence.length > 0);
}
