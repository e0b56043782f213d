import type { ManualOption, OptionManual, PassageHit } from "../memory/index.js";
import { splitUnits } from "./grounded-answer.js";
import { coveredWords, fitWords, parseQuestion } from "./question-fit.js";
import { commandShape, commandsIn, oldStyle, renderTldrCommand, sameCommand, type CommandShape } from "./shell-command.js";

/**
 * Words too common in option descriptions to tell one option from another on their own ("list", "user", "current",
 * "directory", …): an option matched only by these is not chosen unless its long name says it (`--list`).
 * Chosen on the dev pages (allowed tldr pages whose tools have a local manual), never on the benchmark's pages.
 */
const GENERIC = new Set(
  ("show list user current file directory another every find set output use used default given new specific name path time " +
    "line each all way other option command value number text input mode type run work make create")
    .split(" ")
    .flatMap((word) => [...fitWords(word)]),
);

/** Two matching words: equal, or one a prefix of the other at five letters or more ("numeric" / "numerical"). */
function like(a: string, b: string): boolean {
  return a === b || (Math.min(a.length, b.length) >= 5 && (a.startsWith(b) || b.startsWith(a)));
}
function holds(words: ReadonlySet<string>, word: string): boolean {
  if (words.has(word)) return true;
  for (const other of words) if (like(other, word)) return true;
  return false;
}

export interface OptionAmendment {
  /** The answer with the command amended. */
  answer: string;
  /** The command as drafted and as amended. */
  command: string;
  amended: string;
  /** The manual page read (`mv`, `git-add`) and the option added. */
  page: string;
  option: ManualOption;
  /** The spelling inserted (`-f`). */
  flag: string;
  /** The question's words the option's description answers. */
  matched: string[];
  /** Flags of the draft that the question does not ask for and were dropped (`-y` when unified output is asked). */
  dropped: string[];
  /** A passage quoting the option, for the critic's grounding and the record: the manual is now part of the notes. */
  passage: PassageHit;
}

export interface AmendInput {
  question: string;
  answer: string;
  passages: readonly PassageHit[];
}

/** Scoring thresholds (exported for the dev bench; the defaults are what the chat graph uses). */
export interface AmendThresholds {
  /** Least score of the chosen option. @default 1.5 */
  minScore: number;
  /** The chosen option's score over the runner-up's. @default 1.5 */
  margin: number;
  /** Least share of the asked words' weight (those the manual knows) the option answers. @default 0.5 */
  minShare: number;
}
export const DEFAULT_AMEND_THRESHOLDS: AmendThresholds = { minScore: 1.5, margin: 1.5, minShare: 0.5 };

interface Draft {
  command: string;
  shape: CommandShape;
  /** The manual page to read (`mv`; `git-add` for `git add`). */
  page: string;
  /** The subcommand whose page it is (options go after it). */
  subcommand?: string;
  /** What the retrieved notes' examples of this tool cover, and the question asks beyond it. */
  asked: string[];
  questionWords: Set<string>;
}

/**
 * What a drafted answer asks of the manual: its command copies an example of the retrieved notes, and the
 * question asks for something none of the notes' examples of that tool describes ("… verbosely", "keeping the
 * original file"). Undefined when there is nothing to amend: no command, a tool the question does not name, a
 * command no note teaches, or a question the notes' examples already cover.
 */
export function draftToAmend({ question, answer, passages }: AmendInput): Draft | undefined {
  const command = commandsIn(answer)[0];
  if (command === undefined) return undefined;
  const shape = commandShape(command);
  if (shape === undefined) return undefined;
  const { task, tools } = parseQuestion(question);
  if (tools.length > 0 && !tools.includes(shape.tool)) return undefined;
  const units = passages.flatMap(({ passage }) => splitUnits(passage.text)).filter((unit) => unit.command !== undefined && commandShape(renderTldrCommand(unit.command))?.tool === shape.tool);
  const source = units.find((unit) => sameCommand(renderTldrCommand(unit.command!), command) > 0);
  if (source === undefined) return undefined;
  const covered = new Set(units.flatMap((unit) => [...coveredWords(unit)]));
  const toolWords = fitWords(shape.tool.replace(/-/g, " "));
  const asked = [...fitWords(task)].filter((word) => !covered.has(word) && !toolWords.has(word));
  if (asked.length === 0) return undefined;
  // A literal word (no placeholder) right after the tool in the notes' example (`git commit`, `openssl x509`) is a subcommand with a
  // manual of its own (git-commit): its options are the ones that apply; without that page there is nothing to read.
  const subcommand = new RegExp(`^(?:sudo\\s+)?\\S*${shape.tool.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s+([a-z][a-z0-9-]*)(?=\\s|$)`).exec(source.about.trim())?.[1];
  const clustered = CLUSTERED.has(shape.tool);
  const page = subcommand === undefined || clustered ? shape.tool : `${shape.tool}-${subcommand}`;
  return { command, shape, page, ...(page === shape.tool ? {} : { subcommand }), asked, questionWords: fitWords(question) };
}

interface Scored {
  option: ManualOption;
  score: number;
  share: number;
  matched: string[];
}

function optionWords(option: ManualOption): { words: Set<string>; longName: Set<string> } {
  const longName = new Set(option.names.filter((name) => name.startsWith("--")).flatMap((name) => [...fitWords(name.slice(2).replace(/-/g, " "))]));
  return { words: new Set([...fitWords(option.help.replace(/\u2010\s/g, "").replace(/’/g, "'")), ...longName]), longName };
}

/** Tools whose first word may be a cluster of their dashed options' letters (`tar xf` = `tar -x -f`). */
const CLUSTERED = new Set(["tar", "ar"]);

/** Options that are never an answer to a task (help, version). */
const NOT_ANSWERS = new Set(["--help", "-?", "--usage", "--version"]);

const flagKey = (name: string) => (name.startsWith("--") ? name : name.slice(1));

/**
 * The option of `options` that answers the asked words: words weighted by how few options mention them (a word
 * every option mentions tells nothing), doubled by the share of its long name they spell (`--keep` for "keeping");
 * chosen only when it answers at least half the asked words' weight, by a clear margin over the runner-up, with a
 * word no more than two options mention, not all of them generic ({@link GENERIC}).
 */
export function chooseOption(asked: readonly string[], options: readonly ManualOption[], present: ReadonlySet<string>, thresholds: AmendThresholds = DEFAULT_AMEND_THRESHOLDS): Scored | undefined {
  const described = options.map((option) => ({ option, ...optionWords(option) }));
  const known = asked.filter((word) => described.some(({ words }) => holds(words, word)));
  if (known.length === 0) return undefined;
  const frequency = new Map(known.map((word) => [word, described.filter(({ words }) => holds(words, word)).length]));
  const weight = (word: string) => Math.log((described.length + 1) / (frequency.get(word)! + 0.5));
  const total = known.reduce((sum, word) => sum + weight(word), 0);
  const scored: Scored[] = [];
  for (const { option, words, longName } of described) {
    if (option.names.some((name) => present.has(flagKey(name)))) continue;
    const matched = known.filter((word) => holds(words, word));
    if (matched.length === 0) continue;
    if (!matched.some((word) => frequency.get(word)! <= 2)) continue;
    if (matched.every((word) => GENERIC.has(word) && !holds(longName, word))) continue;
    const gained = matched.reduce((sum, word) => sum + weight(word), 0);
    const named = longName.size === 0 ? 0 : matched.filter((word) => holds(longName, word)).length / longName.size;
    scored.push({ option, score: gained * (1 + named), share: gained / total, matched });
  }
  scored.sort((a, b) => b.score - a.score);
  const [best, next] = scored;
  if (best === undefined || best.score < thresholds.minScore || best.share < thresholds.minShare) return undefined;
  if (next !== undefined && best.score < thresholds.margin * next.score) return undefined;
  return best;
}

/** Inserts `flag` after the tool (into a `tar xf`-style cluster, before its `f`). */
function insertFlag(command: string, shape: CommandShape, option: ManualOption, subcommand: string | undefined): { amended: string; flag: string } | undefined {
  const short = option.names.find((name) => /^-[A-Za-z0-9]$/.test(name));
  const flag = option.plain ?? short ?? option.names.find((name) => name.startsWith("--")) ?? option.names[0]!;
  const spelled = option.takesValue && option.plain === undefined ? `${flag}${flag.startsWith("--") ? "=" : " "}${option.value ?? "value"}` : flag;
  const tool = shape.tool.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const at = new RegExp(`(^|\\s)(\\S*${tool}${subcommand === undefined ? "" : `\\s+${subcommand}`})(?=\\s|$)`).exec(command);
  if (at === null) return undefined;
  const after = at.index + at[0].length;
  const rest = command.slice(after);
  const cluster = /^\s+([A-Za-z]+)(?=\s|$)/.exec(rest);
  if (short !== undefined && !option.takesValue && CLUSTERED.has(shape.tool) && cluster !== null && !cluster[1]!.includes(short[1]!)) {
    const letters = cluster[1]!;
    const merged = letters.endsWith("f") ? `${letters.slice(0, -1)}${short[1]}f` : `${letters}${short[1]}`;
    return { amended: `${command.slice(0, after)}${rest.replace(letters, merged)}`, flag: short };
  }
  return { amended: `${command.slice(0, after)} ${spelled}${rest}`, flag };
}

/** Drops the draft's value-less options the question does not ask for when they are documented as something else. */
function dropUnasked(command: string, options: readonly ManualOption[], questionWords: ReadonlySet<string>, keep: ManualOption): { command: string; dropped: string[] } {
  const dropped: string[] = [];
  let out = command;
  for (const token of command.split(/\s+/)) {
    if (!/^-[A-Za-z0-9]$/.test(token)) continue;
    const option = options.find((candidate) => candidate.names.includes(token));
    if (option === undefined || option === keep || option.takesValue) continue;
    const { words } = optionWords({ ...option, help: option.help.split(/(?<=\.)\s/)[0]! });
    const specific = [...words].filter((word) => !GENERIC.has(word));
    if (specific.length === 0 || specific.some((word) => holds(questionWords, word))) continue;
    out = out.replace(new RegExp(`\\s${token}(?=\\s|$)`), "");
    dropped.push(token);
  }
  return { command: out, dropped };
}

/**
 * Amends a drafted answer from the tool's manual: when the question asks for something the retrieved notes'
 * examples of that tool do not cover, and one option of the tool's manual page clearly answers it, that option is
 * added to the command (and options the question does not ask for, documented as something else, are dropped).
 * Undefined when nothing should change.
 */
export async function amendFromManual(input: AmendInput, manual: OptionManual, thresholds: AmendThresholds = DEFAULT_AMEND_THRESHOLDS): Promise<OptionAmendment | undefined> {
  const draft = draftToAmend(input);
  // The command is amended where the answer quotes it; an answer that does not quote it verbatim is left alone.
  if (draft === undefined || !input.answer.includes(draft.command)) return undefined;
  const { page, subcommand } = draft;
  const options = (await manual.options(page))?.filter((option) => !option.names.some((name) => NOT_ANSWERS.has(name)));
  if (options === undefined) return undefined;
  const present = new Set([...oldStyle(draft.shape).flags]);
  const chosen = chooseOption(draft.asked, options, present, thresholds);
  if (chosen === undefined) return undefined;
  const inserted = insertFlag(draft.command, draft.shape, chosen.option, subcommand);
  if (inserted === undefined) return undefined;
  const { command: amended, dropped } = dropUnasked(inserted.amended, options, draft.questionWords, chosen.option);
  const first = chosen.option.help.split(/(?<=\.)\s/)[0]!.replace(/\.$/, "");
  const passage: PassageHit = {
    passage: { id: `man:${page}:${inserted.flag}`, source: `man/${page}.1`, title: `${page} manual`, text: `# ${page} manual\n\n- ${first}:\n\n\`${draft.shape.tool}${subcommand === undefined ? "" : ` ${subcommand}`} ${inserted.flag}\`\n` },
    score: 1,
  };
  return { answer: input.answer.replace(draft.command, amended), command: draft.command, amended, page, option: chosen.option, flag: inserted.flag, matched: chosen.matched, dropped, passage };
}
