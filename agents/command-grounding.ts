import type { PassageHit } from "../memory/index.js";
import type { HardCheck } from "./critic-checks.js";
import { distinctiveWords, type DocumentFrequency } from "./distinctive-words.js";
import { missedWords, rankUnits, type RankedUnit } from "./grounded-answer.js";
import { commandShape, commandsIn, oldStyle, renderTldrCommand, sameCommand, type CommandShape } from "./shell-command.js";

/** One command of the retrieved notes, reduced to what an answer copying it must keep. */
interface NoteCommand {
  tool: string;
  flags: ReadonlySet<string>;
  /** How many arguments it takes (values may differ in an answer, their number may not shrink). */
  arguments: number;
  /** Its literal first argument (`systemctl restart …` → restart), when it has one that is no placeholder. */
  subcommand?: string;
}

const SUBCOMMAND = /^[a-z][a-z0-9-]*$/;

/** Every command quoted in the passages (tldr `{{placeholders}}` rendered as a person types them). */
export function noteCommands(passages: readonly PassageHit[]): NoteCommand[] {
  const notes: NoteCommand[] = [];
  for (const { passage } of passages) {
    for (const match of passage.text.matchAll(/`([^`\n]+)`/g)) {
      const raw = match[1]!.trim();
      if (raw.startsWith("-")) continue;
      // `{{path/to/file1 path/to/file2 ...}}` is one or more values: it counts as one argument (`{{[-s|--long name]}}` is an option).
      const shape = commandShape(renderTldrCommand(raw.replace(/\{\{([^{}[]*?)\s[^{}]*\}\}/g, (_match, head: string) => `{{${head}}}`)));
      if (shape === undefined) continue;
      const { flags, words } = oldStyle(shape);
      const literal = new Set(raw.replace(/\{\{.*?\}\}/g, " ").split(/\s+/));
      const first = words[0];
      notes.push({ tool: shape.tool, flags, arguments: words.length, ...(first !== undefined && SUBCOMMAND.test(first) && literal.has(first) ? { subcommand: first } : {}) });
    }
  }
  return notes;
}

/**
 * Checks that each command in the answer is one the retrieved notes teach: its tool is quoted in them, its options
 * are options the notes use with that tool, and it keeps the subcommand and the number of arguments of one of the
 * notes' examples (values may be filled in differently, options from other examples added). An answer naming a tool
 * the notes never quote (`sudo Networking`, `tar.tar.gz -xzf …`) or dropping an example's argument (`systemctl
 * restart` with no service) fails, however many of its words the notes contain; so does a command where the notes
 * quote none (`sudo Laptop battery drains` from a page of prose advice). No check when nothing was retrieved or the
 * answer gives no command.
 */
export function commandGroundingCheck({
  question,
  answer,
  passages,
  documentFrequency,
}: {
  question: string;
  answer: string;
  passages: readonly PassageHit[];
  /** With it, a clear answer must cover the question's distinctive word, as the fallback's must (see distinctiveWords). */
  documentFrequency?: DocumentFrequency;
}): HardCheck | undefined {
  // Nothing retrieved: the words-only review already fails the answer as ungrounded.
  if (passages.length === 0) return undefined;
  const notes = noteCommands(passages);
  const text = answer.trim();
  if (/^I don'?t know\b/i.test(text)) return unknownCheck(question, passages, documentFrequency);
  const lead = /^`([^`\n]+)`/.exec(text)?.[1];
  if (lead !== undefined && commandShape(renderTldrCommand(lead)) === undefined) return { category: "format", cap: 0.3, reason: `the answer opens with \`${lead}\`, which is not a command` };
  const commands = commandsIn(answer);
  for (const [index, command] of commands.entries()) {
    const shape = commandShape(command);
    // Only the answer's command must parse: a later span may quote a key or a value ("until `<Ctrl c>`").
    if (shape === undefined && index > 0) continue;
    if (shape === undefined) return { category: "format", cap: 0.3, reason: `\`${command}\` does not parse as a shell command` };
    const same = notes.filter((note) => note.tool === shape.tool);
    if (same.length === 0) return { category: "ungrounded", cap: 0.3, reason: `\`${shape.tool}\` is not a command the retrieved notes use` };
    const { flags, words } = oldStyle(shape);
    const known = new Set(same.flatMap((note) => [...note.flags]));
    const unknown = [...flags].filter((flag) => !known.has(flag));
    if (unknown.length > 0) {
      return { category: "ungrounded", cap: 0.4, reason: `option${unknown.length > 1 ? "s" : ""} ${unknown.map((flag) => (flag.startsWith("--") ? flag : `-${flag}`)).join(" ")} of ${shape.tool} not in the retrieved notes` };
    }
    const copies = same.some(
      (note) => [...note.flags].every((flag) => flags.has(flag)) && words.length >= note.arguments && (note.subcommand === undefined || words[0] === note.subcommand),
    );
    if (!copies) return { category: "incomplete", cap: 0.4, reason: `\`${command}\` matches none of the notes' ${shape.tool} examples (a subcommand, option or argument is missing)` };
  }
  const first = commands[0];
  return first === undefined ? undefined : taskCheck(question, first, passages, documentFrequency);
}

/** A unit answers the question clearly enough to be the reference when it would be offered as the fallback answer. */
const CLEAR_FIT = 0.3;
const CLEAR_COVERAGE = 0.5;
/** How much worse than the notes' best answer the copied example may fit the question. */
const FIT_MARGIN = 0.25;

/** The best unit with a command when it answers the question clearly (what the fallback would quote). */
function clearAnswer(question: string, passages: readonly PassageHit[], documentFrequency?: DocumentFrequency): { best: RankedUnit; ranked: RankedUnit[] } | undefined {
  const ranked = rankUnits(question, passages).filter((entry) => entry.unit.command !== undefined);
  const best = ranked[0];
  if (best === undefined || best.fit.score < CLEAR_FIT || best.fit.recall < CLEAR_COVERAGE) return undefined;
  if (documentFrequency !== undefined && missedWords(best.unit, distinctiveWords(question, passages, documentFrequency)) !== undefined) return undefined;
  return { best, ranked };
}

/** "I don't know" is honest only when the notes hold no clear answer. */
function unknownCheck(question: string, passages: readonly PassageHit[], documentFrequency?: DocumentFrequency): HardCheck | undefined {
  const clear = clearAnswer(question, passages, documentFrequency);
  if (clear === undefined) return undefined;
  return { category: "incomplete", cap: 0.4, reason: `the answer says it does not know, but the notes answer this with \`${clear.best.unit.command!}\`` };
}

/**
 * The command must be the notes' answer to *this* question: when the notes hold a clear answer (the unit the
 * fallback would quote), the example the answer copies (same tool, closest options) may not fit the question much
 * worse than that one — `gzip path/to/file` is the notes' way to compress a file, not to rename one.
 */
function taskCheck(question: string, command: string, passages: readonly PassageHit[], documentFrequency?: DocumentFrequency): HardCheck | undefined {
  const shape = commandShape(command);
  if (shape === undefined) return undefined;
  const clear = clearAnswer(question, passages, documentFrequency);
  if (clear === undefined) return undefined;
  const { best, ranked } = clear;
  if (extends_(shape, best.unit.command!)) return undefined;
  const copied = closestExample(shape, command, ranked);
  if (copied === undefined) return undefined;
  // No example of the notes runs this subcommand (`git push` where they answer with `git add file`): none is what it copies.
  const foreign = otherSubcommand(shape, copied.unit.command!);
  if (!foreign && copied.fit.score >= best.fit.score - FIT_MARGIN) return undefined;
  const what = foreign ? "not the notes' answer to this question" : `the notes' command to ${lowerFirst(copied.unit.description)}, not an answer to this question`;
  return { category: "off-topic", cap: 0.4, reason: `\`${command}\` is ${what} (the notes answer it with \`${best.unit.command!}\`)` };
}

/**
 * The answer is the best example, perhaps with options added (`tar -xzf f.tar.gz -C dir/` for `tar -xzf f.tar.gz`),
 * keeping its subcommand: `git init` is not `git clone URL` with something added. (Two different plain words in
 * first place are two subcommands; a path, a number or a PLACEHOLDER there is a value, filled in as the user likes.)
 */
function extends_(shape: CommandShape, example: string): boolean {
  const other = commandShape(example);
  if (other === undefined || other.tool !== shape.tool) return false;
  if (otherSubcommand(shape, example)) return false;
  const flags = oldStyle(shape).flags;
  return [...oldStyle(other).flags].every((flag) => flags.has(flag));
}

/** Whether an example of the same tool runs another subcommand: two different plain words in first place (`git init`, `git clone URL`). */
function otherSubcommand(shape: CommandShape, example: string): boolean {
  const other = commandShape(example);
  const [mine, theirs] = [oldStyle(shape).words[0], other === undefined ? undefined : oldStyle(other).words[0]];
  return mine !== undefined && theirs !== undefined && PLAIN_WORD.test(mine) && PLAIN_WORD.test(theirs) && mine !== theirs;
}

/** A plain lower-case word, no digits: what a subcommand looks like (`clone`, `restart`), not a value (`file1`, `PID`). */
const PLAIN_WORD = /^[a-z][a-z-]*$/;

/** The example of the same tool an answer's command is closest to: the same example first, then the most shared options. */
function closestExample(shape: CommandShape, command: string, ranked: readonly RankedUnit[]): RankedUnit | undefined {
  const flags = oldStyle(shape).flags;
  let closest: { entry: RankedUnit; score: number } | undefined;
  for (const entry of ranked) {
    const other = commandShape(entry.unit.command!);
    if (other === undefined || other.tool !== shape.tool) continue;
    const otherFlags = oldStyle(other).flags;
    const shared = [...flags].filter((flag) => otherFlags.has(flag)).length / Math.max(1, new Set([...flags, ...otherFlags]).size);
    const score = sameCommand(command, entry.unit.command!) * 2 + shared - (otherSubcommand(shape, entry.unit.command!) ? 1 : 0);
    if (closest === undefined || score > closest.score) closest = { entry, score };
  }
  return closest?.entry;
}

function lowerFirst(text: string): string {
  const trimmed = text.trim().replace(/[:.]$/, "");
  return /^[A-Z][a-z]/.test(trimmed) ? trimmed[0]!.toLowerCase() + trimmed.slice(1) : trimmed;
}
