/**
 * Shell commands in answers: rendering tldr's command syntax as a person types it, checking that a
 * command parses, and comparing two commands.
 */

/** A Result: a parsed command's first word, or why the text is not a command. */
export type ShellCheck = { success: true; value: { commandWord: string } } | { success: false; error: string };

const ALTERNATIVES = /\[([^\]|]*)\|[^\]]*\]/g;
const OPTION_ALTERNATIVES = /\[(-[^\]|\s]*)\|[^\]\s]*\]/g;

/**
 * A tldr command as a person would type it: `{{[-C|--directory]}}` → `-C` (the first, short spelling),
 * `{{path/to/source.tar[.gz|.bz2|.xz]}}` → `path/to/source.tar.gz` (the first alternative), `{{path/to/file1
 * path/to/file2 ...}}` → `path/to/file1 path/to/file2` (braces and the ellipsis dropped, the value kept).
 */
export function renderTldrCommand(command: string): string {
  return command
    .replace(/\{\{(.*?)\}\}/g, (_match, inner: string) => {
      const value = inner.replace(ALTERNATIVES, "$1").replace(/\s*\.\.\.$/, "").trim();
      // `{{--bin|--lib}}`, `{{ACTIVEMQ|RABBITMQ}}`: one of several values, written without brackets.
      return /^[^\s|]+(?:\|[^\s|]*)+$/.test(value) ? value.slice(0, value.indexOf("|")) : value;
    })
    .replace(OPTION_ALTERNATIVES, "$1")
    .replace(/\s+/g, " ")
    .trim();
}

const OPEN: Record<string, string> = { "(": ")", "[": "]", "{": "}" };
const CLOSE = new Set([")", "]", "}"]);
const SEPARATORS = /^(\|\|?|\|&|&&|;|&)$/;
const COMMAND_WORD = /^(?:[.~]?\/)?[A-Za-z0-9_][\w.+\-/]*$/;
const PREFIXES = new Set(["sudo", "env", "time", "nohup", "command", "exec"]);

/**
 * Checks that `command` parses as a shell command line: quotes and `( [ {` balanced (outside quotes, `\`-escapes
 * honoured), no tldr syntax left (`{{placeholder}}`, `[-a|--all]` alternatives), and every pipeline part starting
 * with a plausible command word (after `VAR=value` assignments); the command word reported is the one after `sudo`.
 */
export function checkShellCommand(command: string): ShellCheck {
  const text = command.trim();
  if (text.length === 0) return { success: false, error: "the command is empty" };
  if (/\{\{|\}\}/.test(text)) return { success: false, error: "a tldr {{placeholder}} is left in the command" };
  const scanned = scan(text);
  if (!scanned.success) return scanned;
  const { tokens, unquoted } = scanned.value;
  if (/\[[^\]\s|]*\|[^\]\s]*\]/.test(unquoted)) return { success: false, error: "tldr option alternatives like [-a|--all] are left in the command" };
  let commandWord: string | undefined;
  let expectWord = true;
  let last: string | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (SEPARATORS.test(token)) {
      if (expectWord) return { success: false, error: `"${token}" has no command before it` };
      expectWord = true;
      last = token;
      continue;
    }
    if (!expectWord) continue;
    if (/^[A-Za-z_]\w*=/.test(token) || /^\(+$/.test(token)) continue;
    const word = token.replace(/^\(+/, "");
    if (!COMMAND_WORD.test(word) && !/^\$[\w{(]/.test(word) && ![".", "[", "[["].includes(word)) return { success: false, error: `"${token}" is not a command name` };
    // `sudo apt …` names apt (sudo is a command too: `command | sudo tee`, `sudo -u user …`).
    const next = tokens[i + 1];
    commandWord ??= PREFIXES.has(word) && next !== undefined && COMMAND_WORD.test(next) ? next : word;
    expectWord = false;
  }
  // A line may end in `;` or `&` (run in the background), never in a pipe or `&&`/`||`.
  if (expectWord && !(commandWord !== undefined && (last === ";" || last === "&"))) {
    return { success: false, error: commandWord === undefined ? "there is no command name" : "the command line ends in a pipe or `&&`/`||`" };
  }
  return { success: true, value: { commandWord: commandWord! } };
}

interface Scanned {
  /** Words, with pipes and separators as their own tokens; quotes kept inside words. */
  tokens: string[];
  /** The text outside quotes (for syntax checks). */
  unquoted: string;
}

function scan(text: string): { success: true; value: Scanned } | { success: false; error: string } {
  const tokens: string[] = [];
  const stack: string[] = [];
  let quote: string | null = null;
  let current = "";
  let unquoted = "";
  const flush = () => {
    if (current.length > 0) tokens.push(current);
    current = "";
  };
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quote !== null) {
      current += char;
      if (char === "\\" && quote !== "'" && i + 1 < text.length) current += text[++i]!;
      else if (char === quote) quote = null;
      continue;
    }
    if (char === "\\") {
      current += char + (text[i + 1] ?? "");
      i++;
      continue;
    }
    unquoted += char;
    if (char === "'" || char === '"' || char === "`") {
      quote = char;
      current += char;
      continue;
    }
    if (OPEN[char] !== undefined) stack.push(OPEN[char]);
    else if (CLOSE.has(char)) {
      if (stack.pop() !== char) return { success: false, error: `unbalanced "${char}"` };
    }
    if (/\s/.test(char)) {
      flush();
      continue;
    }
    if (char === "|" || char === ";" || (char === "&" && !/[<>]/.test(text[i - 1] ?? "") && text[i + 1] !== ">")) {
      // `2>&1` and `&>` are redirections, not separators; `|&` is a pipe; a lone `&` runs in the background.
      flush();
      const double = (char === "|" || char === "&") && (text[i + 1] === char || (char === "|" && text[i + 1] === "&"));
      tokens.push(double ? char + text[i + 1]! : char);
      if (double) {
        unquoted += char;
        i++;
      }
      continue;
    }
    current += char;
  }
  if (quote !== null) return { success: false, error: `unbalanced ${quote} quote` };
  if (stack.length > 0) return { success: false, error: `unbalanced "${stack.at(-1) === ")" ? "(" : stack.at(-1) === "]" ? "[" : "{"}"` };
  flush();
  return { success: true, value: { tokens, unquoted } };
}

/**
 * The commands an answer gives: its inline code spans that are command lines (with arguments, or with tldr
 * syntax left in them; else the first span naming a single command, like `lsblk`), or the whole answer when it
 * is one bare command line (a user's correction like "ls -a": one line, lower-case first word, no sentence
 * punctuation at the end). Spans naming an option or a value (`-C`, `/etc/hosts`) are not commands.
 */
export function commandsIn(answer: string): string[] {
  // An option quoted on its own ("add `-C folder`") is part of a command, not a command.
  const spans = [...answer.matchAll(/`([^`\n]+)`/g)].map((match) => match[1]!.trim()).filter((span) => span.length > 0 && !span.startsWith("-"));
  const lines = spans.filter((span) => /\s/.test(span) || /\{\{|\}\}|\[[^\]\s|]*\|/.test(span));
  if (lines.length > 0) return lines;
  const single = spans.find((span) => /^[a-z][\w.+-]+$/.test(span));
  if (single !== undefined) return [single];
  if (spans.length > 0) return [];
  const text = answer.trim();
  if (text.length > 0 && !text.includes("\n") && /^[a-z.~/]/.test(text) && !/[.?!:]$/.test(text) && checkShellCommand(text).success) return [text];
  return [];
}

/** A command reduced to what identifies the example: its tool, literal words and option letters/names. */
export interface CommandShape {
  tool: string;
  /** Option letters (`-xvf` → x, v, f) and long option names (`--all`). */
  flags: Set<string>;
  /** Other words, in order (values included). */
  words: string[];
}

/** The shape of a command's first pipeline part (`sudo` and assignments skipped); undefined when it does not parse. */
export function commandShape(command: string): CommandShape | undefined {
  const check = checkShellCommand(command);
  if (!check.success) return undefined;
  const scanned = scan(command.trim());
  if (!scanned.success) return undefined;
  const flags = new Set<string>();
  const words: string[] = [];
  let started = false;
  for (const token of scanned.value.tokens) {
    if (SEPARATORS.test(token) || token.startsWith(">") || token === "<") break;
    if (!started) {
      if (/^[A-Za-z_]\w*=/.test(token) || PREFIXES.has(token)) continue;
      started = true;
      continue;
    }
    const long = /^--([\w][\w.-]*)/.exec(token);
    if (long) flags.add(`--${long[1]}`);
    else if (/^-[A-Za-z0-9]+$/.test(token)) for (const letter of token.slice(1)) flags.add(letter);
    else words.push(token.replace(/^["']|["']$/g, ""));
  }
  return { tool: check.value.commandWord.replace(/^.*\//, ""), flags, words };
}

/**
 * How far command `a` is the same example as `b`: 1 when tool, options and words are the same; 0.8 when
 * tool and options are (other values); 0 otherwise. A leading old-style option word (`tar xzf`) counts as options.
 */
export function sameCommand(a: string, b: string): number {
  const x = commandShape(a);
  const y = commandShape(b);
  if (x === undefined || y === undefined || x.tool !== y.tool) return 0;
  const left = oldStyle(x);
  const right = oldStyle(y);
  if (left.flags.size !== right.flags.size || [...left.flags].some((flag) => !right.flags.has(flag))) return 0;
  return left.words.join(" ") === right.words.join(" ") ? 1 : 0.8;
}

/** `tar xzf` → flags x, z, f (a first word of letters only, directly after tar-like tools, is an option cluster). */
export function oldStyle(shape: CommandShape): { flags: Set<string>; words: string[] } {
  const [first, ...rest] = shape.words;
  if (first !== undefined && ["tar", "ps", "ar"].includes(shape.tool) && /^[A-Za-z]+$/.test(first)) return { flags: new Set([...shape.flags, ...first]), words: rest };
  return { flags: shape.flags, words: shape.words };
}
