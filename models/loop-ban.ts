/**
 * Loop ban: a decoding constraint against the degenerate cycles a small model falls into under greedy decoding
 * ("a.k.a.a.a.a…", "-r-r-r-r…", "KILLLLL…", "|.xz2|.xz2|.xz2…", "--waits --waits --waits…"), which otherwise run to
 * the token cap. When the generated tokens end with one unit repeated as often as its length allows, the token
 * that would start the next copy is banned for the next step, so the model has to leave the cycle (and usually
 * ends its answer). Short units (up to `shortPeriod` tokens: a letter, a digit, `-r`) may repeat `shortRepeats`
 * times in a row (`* * * *` of a cron line); longer units, up to `maxPeriod` tokens, `longRepeats` times.
 * Only generated tokens count: copying a command from the prompt is never banned.
 */
export interface LoopBanOptions {
  /** Units of at most this many tokens are short. @default 2 */
  shortPeriod: number;
  /** Copies of a short unit allowed in a row; the next copy is banned. @default 4 */
  shortRepeats: number;
  /** Longest unit checked, in tokens. @default 16 */
  maxPeriod: number;
  /** Copies of a longer unit allowed in a row. @default 2 */
  longRepeats: number;
}

export const LOOP_BAN_DEFAULTS: LoopBanOptions = { shortPeriod: 2, shortRepeats: 4, maxPeriod: 16, longRepeats: 2 };

/** Tokens that would add one copy too many of a unit repeated at the end of `tokens` (empty when none). */
export function loopBannedTokens(tokens: readonly number[], options: LoopBanOptions = LOOP_BAN_DEFAULTS): number[] {
  const banned = new Set<number>();
  for (let period = 1; period <= options.maxPeriod; period++) {
    const span = period * (period <= options.shortPeriod ? options.shortRepeats : options.longRepeats);
    if (tokens.length < span) continue;
    const start = tokens.length - span;
    let cycle = true;
    for (let i = start + period; i < tokens.length && cycle; i++) cycle = tokens[i] === tokens[i - period];
    if (cycle) banned.add(tokens[start]!);
  }
  return [...banned];
}
