import type { PassageHit } from "../memory/index.js";
import type { DocumentFrequency } from "./distinctive-words.js";
import { groundedAnswer } from "./grounded-answer.js";

export interface FallbackAnswer {
  answer: string;
  /** Knowledge-base page quoted (its title), when one is. */
  page?: string;
}

export interface FallbackOptions {
  /** Share of the question's content words the quoted unit must cover to be offered as the answer. @default 0.5 */
  minCoverage?: number;
  /** How well the unit's description must fit the question's task (see taskFit: recall², precision, lead word). @default 0.3 */
  minFit?: number;
  /** Most characters of a passage quoted in an "I don't know". @default 240 */
  maxQuoteChars?: number;
  /**
   * How many knowledge-base passages hold a word (`KnowledgeBase.documentFrequency`): with it, the quoted unit must
   * also cover the question's distinctive word (its rarest word the retrieved passages use, see distinctiveWords).
   * @default none (coverage by word count only)
   */
  documentFrequency?: DocumentFrequency;
}

/**
 * What the user gets instead of an answer the council itself failed: the best grounded unit of the retrieved
 * knowledge with its source ("From the tar page: `tar xzf …` — extract …"), or an honest "I don't know" that names
 * the most relevant passage — never the failed text.
 */
export function fallbackAnswer(question: string, passages: readonly PassageHit[], { minCoverage = 0.5, minFit = 0.3, maxQuoteChars = 240, documentFrequency }: FallbackOptions = {}): FallbackAnswer {
  const grounded = groundedAnswer(question, passages, documentFrequency === undefined ? {} : { documentFrequency });
  // A unit that only shares words ("reset a user password" vs a printer badge's "user name and password"), or only
  // the common ones ("find which process uses a port" vs `pgrep`, "find processes by name"), is not an answer.
  if (grounded !== undefined && grounded.coverage >= minCoverage && grounded.fit >= minFit && grounded.missing === undefined) {
    const passage = passages.find((hit) => hit.passage.id === grounded.passageId)!.passage;
    return { answer: `From the ${pageName(passage.title)} page: ${grounded.answer}`, page: passage.title };
  }
  const top = passages[0]?.passage;
  if (top === undefined) return { answer: "I don't know, and my notes have nothing on this yet. The question is recorded so the council can learn it." };
  const quote = top.text.replace(/\s+/g, " ").trim();
  const clipped = quote.length <= maxQuoteChars ? quote : `${quote.slice(0, maxQuoteChars).trimEnd()}…`;
  return { answer: `I don't know for sure. The closest note I have is the ${pageName(top.title)} page: ${clipped}`, page: top.title };
}

/** "Archives and compression: tar, gzip and zip › Questions and answers" → "Archives and compression"; "tar" → "tar". */
export function pageName(title: string): string {
  const page = title.trim().replace(/^#+\s*/, "").split(" › ")[0]!.split(":")[0]!.trim();
  return page.length > 0 ? page : "knowledge-base";
}
