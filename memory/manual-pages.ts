import { execFile } from "node:child_process";

/** One option of a tool as its manual page documents it. */
export interface ManualOption {
  /** Its spellings, short first as the manual lists them (`-f`, `--force`). */
  names: string[];
  /** Whether it takes a value (`-S, --suffix=SUFFIX`, `-P port`). */
  takesValue: boolean;
  /** The value's name in the manual, lower-case (`suffix`, `port`), when it takes one. */
  value?: string;
  /** A spelling that needs no value when another does (`-u` of `-u, -U NUM, --unified[=NUM]`). */
  plain?: string;
  /** Its description, whitespace folded (at most ~400 characters). */
  help: string;
}

/** Where options of a tool come from (the local manual; a fake in unit tests). */
export interface OptionManual {
  /** The tool's documented options; `undefined` when it has no manual page here (or the name is not a tool name). */
  options(tool: string): Promise<readonly ManualOption[] | undefined>;
}

/** A tool name `man` may be asked about: no path, no option, nothing a shell would read. */
const TOOL_NAME = /^[a-z0-9][a-z0-9_+.-]{0,63}$/i;
const MAX_HELP = 400;
/** An option line starts this close to the margin (deeper lines continue a description). */
const MAX_OPTION_INDENT = 14;

/**
 * Options of a rendered manual page (`man tool` as plain text): every line at the options' indentation that starts
 * with `-` and whose head (up to a run of two spaces or a tab) names options and their values (`-f, --force`,
 * `-k --keep`, `-S, --suffix=SUFFIX`, `-R hostname | [hostname]:port`); its description is the rest of the line and
 * the deeper-indented lines below it. Prose that merely starts with a dash (a sentence) is not an option.
 */
export function parseManualOptions(text: string): ManualOption[] {
  const options: ManualOption[] = [];
  let current: ManualOption | undefined;
  let indent = 0;
  for (const raw of plainText(text).split("\n")) {
    const line = raw.replace(/\s+$/, "");
    const start = /^(\s{1,14})(-\S.*)$/.exec(line);
    if (start !== undefined && start !== null && start[1]!.length <= MAX_OPTION_INDENT) {
      const [head, ...rest] = start[2]!.split(/\s{2,}|\t/);
      const names = [...head!.matchAll(/(?:^|[\s,|[])(-{1,2}[A-Za-z0-9?][\w-]*)/g)].map((match) => match[1]!);
      if (head!.length <= 70 && names.length > 0 && !/[.;:]\s/.test(head!)) {
        const valuePart = head!.replace(/(?:^|(?<=[\s,|[]))-{1,2}[A-Za-z0-9?][\w-]*/g, "");
        const takesValue = valuePart.replace(/[\s,|[\]]/g, "").length > 0;
        const value = /[A-Za-z][\w-]*/.exec(valuePart)?.[0]?.toLowerCase();
        const plain = takesValue ? plainSpelling(head!) : undefined;
        current = { names: [...new Set(names)], takesValue, ...(takesValue && value !== undefined ? { value } : {}), ...(plain === undefined ? {} : { plain }), help: rest.join(" ").trim() };
        indent = start[1]!.length;
        options.push(current);
        continue;
      }
    }
    const depth = /^\s*/.exec(line)![0].length;
    if (current !== undefined && line.length > 0 && depth > indent) {
      current.help = `${current.help} ${line.trim()}`.trim();
      if (current.help.length > MAX_HELP) current = undefined;
    } else if (line.length > 0) current = undefined;
  }
  return options.map((option) => ({ ...option, help: option.help.replace(/\u2010\s+/g, "").replace(/\s+/g, " ").slice(0, MAX_HELP) })).filter((option) => option.help.length > 0);
}

/**
 * The spelling that needs no value, when the manual shows one: `-u` of `-u, -U NUM, --unified[=NUM]` (the value
 * belongs to another short spelling), or the first spelling when every value is optional (`--color[=WHEN]`). In GNU's
 * `-t, --tabs=N` the value written on the long spelling is every spelling's.
 */
function plainSpelling(head: string): string | undefined {
  const spellings = [...head.matchAll(/(?:^|(?<=[\s,|[]))(-{1,2}[A-Za-z0-9?][\w-]*)([^-]*)/g)].map((match) => {
    const after = match[2]!.replace(/^[\s,|]+$/, "");
    return { name: match[1]!, value: /^\[=/.test(after) ? "optional" : /^[= [<]?\s*[A-Za-z<{[]/.test(after) ? "required" : "none" };
  });
  if (spellings.every(({ value }) => value !== "required")) return spellings[0]?.name;
  const shortRequired = spellings.some(({ name, value }) => !name.startsWith("--") && value === "required");
  return shortRequired ? spellings.find(({ name, value }) => !name.startsWith("--") && value === "none")?.name : undefined;
}

const BACKSPACE = 8;
const ESCAPE = 27;

/** Rendered man output without overstrike (`a\bab\bb`: bold) and SGR escapes (`ESC[1m`), as `col -b` would. */
function plainText(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === BACKSPACE) {
      out = out.slice(0, -1);
      continue;
    }
    if (code === ESCAPE && text[i + 1] === "[") {
      const end = text.slice(i + 2).search(/[A-Za-z]/);
      if (end >= 0) {
        i += end + 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

export interface ManualPagesOptions {
  /** The `man` binary. @default "man" */
  command?: string;
  /** Tools whose options are kept in memory (least recently asked go first). @default 512 */
  cacheSize?: number;
  /** Per page. @default 3000 */
  timeoutMs?: number;
}

/**
 * The options of the tools installed here, read from their manual pages (`man <tool>`, rendered as plain text,
 * no shell; the name is checked first). Pages are read once and cached; a tool without a page (or a machine
 * without `man`) has no options: callers then change nothing.
 */
export class ManualPages implements OptionManual {
  readonly #command: string;
  readonly #cacheSize: number;
  readonly #timeoutMs: number;
  readonly #cache = new Map<string, Promise<readonly ManualOption[] | undefined>>();

  constructor({ command = "man", cacheSize = 512, timeoutMs = 3000 }: ManualPagesOptions = {}) {
    this.#command = command;
    this.#cacheSize = cacheSize;
    this.#timeoutMs = timeoutMs;
  }

  options(tool: string): Promise<readonly ManualOption[] | undefined> {
    if (!TOOL_NAME.test(tool)) return Promise.resolve(undefined);
    const cached = this.#cache.get(tool);
    if (cached !== undefined) {
      this.#cache.delete(tool);
      this.#cache.set(tool, cached);
      return cached;
    }
    const read = this.#read(tool);
    this.#cache.set(tool, read);
    if (this.#cache.size > this.#cacheSize) this.#cache.delete(this.#cache.keys().next().value!);
    return read;
  }

  #read(tool: string): Promise<readonly ManualOption[] | undefined> {
    return new Promise((resolve) => {
      // `-P cat`: no pager; not a terminal, so man renders plain 80-column text.
      execFile(this.#command, ["-P", "cat", tool], { timeout: this.#timeoutMs, maxBuffer: 4 * 1024 * 1024, encoding: "utf8" }, (error, stdout) => {
        if (error !== null || stdout.length === 0) return resolve(undefined);
        const options = parseManualOptions(stdout);
        resolve(options.length > 0 ? options : undefined);
      });
    });
  }
}
