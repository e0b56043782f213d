import { isStopword, words } from "./text.js";

/** What a question asks for: the task in its own words, and the tools it names. */
export interface QuestionTask {
  /** The question without its asking frame ("How do I … using tar?" → "…"). */
  task: string;
  /** Tools the question names ("using tar", "the git command", "With tar, …"), lower-case. */
  tools: string[];
}

const TOOL = "([\\w][\\w.+-]*)";
/** Asking frames at the start of a question, stripped one after another; a captured group names a tool. */
const LEADS: readonly RegExp[] = [
  /^(?:so|ok|okay|hi|hello|hey|please)[,!\s]+/i,
  /^(?:how|what)\s+(?:do|can|could|would|should|will|must)\s+(?:i|we|you|one)\s+/i,
  /^how\s+to\s+/i,
  /^what(?:'s|\s+is)\s+the\s+(?:best\s+|right\s+|easiest\s+)?way\s+to\s+/i,
  /^(?:is\s+there\s+a\s+way|i\s+(?:want|need|would\s+like)|i'd\s+like)\s+to\s+/i,
  /^(?:can|could)\s+you\s+(?:tell|show)\s+me\s+how\s+to\s+/i,
  new RegExp(`^what\\s+(?:${TOOL}\\s+)?command\\s+(?:would|will|can|could|should|do\\s+i\\s+use\\s+to|to|that)\\s+`, "i"),
  new RegExp(`^show\\s+me\\s+(?:the|a)\\s+(?:${TOOL}\\s+)?command\\s+(?:to|that|for)\\s+`, "i"),
  /^show\s+me\s+how\s+to\s+/i,
  new RegExp(`^with\\s+${TOOL},\\s*`, "i"),
];
/** "… using tar?", "… using git commit?", "… with the tar command". */
const TRAILING = new RegExp(`\\s+(?:using|with\\s+the|via)\\s+${TOOL}(?:\\s+(${TOOL.slice(1, -1)}))?(?:\\s+command)?\\s*[?.!]*$`, "i");

/** Splits a question into its task and the tools it names; each sentence loses its own asking frame ("I forgot my password. How do I reset it?"). */
export function parseQuestion(question: string): QuestionTask {
  const tools: string[] = [];
  const sentences = question
    .trim()
    .split(/(?<=[.?!])\s+(?=[A-Z])/)
    .map((sentence) => stripFrame(sentence, tools))
    .filter((sentence) => sentence.length > 0);
  return { task: sentences.join(". "), tools };
}

function stripFrame(sentence: string, tools: string[]): string {
  let task = sentence.trim();
  for (let changed = true; changed; ) {
    changed = false;
    for (const lead of LEADS) {
      const match = lead.exec(task);
      if (!match) continue;
      if (match[1]) tools.push(match[1].toLowerCase());
      task = task.slice(match[0].length);
      changed = true;
    }
  }
  const trailing = TRAILING.exec(task);
  // "… using port 8080" names a port, not a tool "port" with a subcommand "8080": the words stay in the task.
  if (trailing && !/^\d+$/.test(trailing[2] ?? "")) {
    tools.push(trailing[1]!.toLowerCase());
    if (trailing[2]) tools.push(trailing[2].toLowerCase());
    task = task.slice(0, trailing.index);
  }
  return task.replace(/[?.!]+$/, "").trim();
}

/** Everyday synonyms folded onto one word before matching (left: what people say, right: what docs say). */
const SYNONYMS: ReadonlyArray<readonly [string, string]> = [
  ["display", "show"], ["view", "show"], ["see", "show"], ["print", "show"],
  ["folder", "directory"], ["dir", "directory"],
  ["delete", "remove"], ["erase", "remove"],
  ["make", "create"], ["present", "current"], ["particular", "specific"],
  ["big", "large"], ["huge", "large"], ["gz", "gzip"], ["gzipped", "gzip"], ["tgz", "gzip"],
];
/** Stopwords that are the point of a helpdesk question ("which folders use the *most* space" is `du`, not `df`). */
const KEPT_STOPWORDS = new Set(["most"]);
/** Words that only frame a question. */
const FRAME_WORDS = new Set(["way", "command", "commands", "want", "need", "like", "uses", "one", "ones", "able", "let", "get"]);

/** A light stemmer: plurals, -ing, -ed and a final e go ("archives", "archived", "archiving" → "archiv"). */
export function stem(word: string): string {
  if (word.length <= 3 || /\d/.test(word)) return word;
  let out = word;
  if (out.endsWith("ies") && out.length > 4) out = `${out.slice(0, -3)}y`;
  else if (out.endsWith("sses")) out = out.slice(0, -2);
  else if (out.endsWith("s") && !/(ss|us|is)$/.test(out)) out = out.slice(0, -1);
  if (out.length > 5 && out.endsWith("ing")) out = out.slice(0, -3);
  else if (out.length > 4 && out.endsWith("ed")) out = out.slice(0, -2);
  if (out.length > 4 && out.endsWith("e")) out = out.slice(0, -1);
  if (/([^aeiouls])\1$/.test(out)) out = out.slice(0, -1);
  return out;
}

const CANONICAL = new Map(SYNONYMS.map(([alias, word]) => [stem(alias), stem(word)]));

/** Negations are meaning, not filler: "do not prompt" must not match "prompt". */
const NEGATION = /\b(?:not|no|never|without)\b|n't\b/i;

/**
 * Matching words of a text: content words, compounds split into their parts, synonyms folded, stemmed, and
 * "not" when the text negates ("don't", "without").
 */
export function fitWords(text: string): Set<string> {
  const out = new Set<string>();
  if (NEGATION.test(text)) out.add("not");
  const plain = text.replace(/\bcan't\b/gi, "can").replace(/\bwon't\b/gi, "will").replace(/n't\b/gi, "");
  const add = (word: string) => {
    if (word.length < 2 || (isStopword(word) && !KEPT_STOPWORDS.has(word)) || FRAME_WORDS.has(word)) return;
    const stemmed = stem(word);
    out.add(CANONICAL.get(stemmed) ?? stemmed);
  };
  for (const word of words(plain.replace(/\[(\w{1,3})\]/g, "$1"))) {
    if (/[./-]/.test(word)) for (const part of word.split(/[./-]+/)) add(part);
    else add(word);
  }
  return out;
}

/** Words a negation takes back: "without extracting it" → {extract}; "don't prompt" → {prompt}. */
export function negatedWords(text: string): Set<string> {
  const out = new Set<string>();
  for (const match of text.matchAll(/(?:\b(?:not|no|never|without)|n't)\s+((?:[\w./-]+\s*){1,2})/gi)) for (const word of fitWords(match[1]!)) out.add(word);
  out.delete("not");
  return out;
}

/** The words a unit covers: its description's and `about`'s, less those its description negates. */
export function coveredWords({ description, about = "" }: { description: string; about?: string }): Set<string> {
  // A negated word is not what the unit does ("see what is inside an archive without extracting it" does not extract).
  const negated = negatedWords(description);
  return new Set([...fitWords(description), ...fitWords(about)].filter((word) => !negated.has(word)));
}

export interface Fit {
  /** Share of the task's words the unit covers (its description, command and title). */
  recall: number;
  /** Share of the unit description's words the task asks for. */
  precision: number;
  /**
   * recall² × (0.6 + 0.4 × precision), × 0.7 when the description's first word (what the unit does) is not asked
   * for: every unasked-for or missing word costs, a missing one and another action most.
   */
  score: number;
}

/**
 * How well a unit answers a task: the task's words against the unit's description (`about`: plus words that
 * say what the unit is about without describing it, like its command, which count for recall only). `leadMustMatch`:
 * whether the description's first word is an action the task must name (not for a user's question: "I forgot my
 * password. How do I reset it?").
 */
export function taskFit({ task, description, about = "", leadMustMatch = true }: { task: Set<string>; description: string; about?: string; leadMustMatch?: boolean }): Fit {
  // A negated word is not what the unit does ("see what is inside an archive without extracting it" does not extract).
  const negated = negatedWords(description);
  const described = new Set([...fitWords(description)].filter((word) => !negated.has(word)));
  const covered = coveredWords({ description, about });
  if (task.size === 0 || described.size === 0) return { recall: 0, precision: 0, score: 0 };
  let hits = 0;
  for (const word of task) if (covered.has(word)) hits++;
  let asked = 0;
  for (const word of described) if (task.has(word)) asked++;
  const recall = hits / task.size;
  const precision = asked / described.size;
  // The description's first word is what the unit does ("Extract …", "records …"): doing something else costs most.
  const [lead] = fitWords(description.split(/\s+/).find((word) => fitWords(word).size > 0) ?? "");
  const leadFactor = !leadMustMatch || lead === undefined || task.has(lead) ? 1 : 0.7;
  return { recall, precision, score: recall * recall * (0.6 + 0.4 * precision) * leadFactor };
}
