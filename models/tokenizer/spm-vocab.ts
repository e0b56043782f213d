/** An SPM ("llama") vocabulary as llama.cpp reads it from GGUF: pieces, scores and token types. */

/** llama.cpp token types (tokenizer.ggml.token_type). */
export const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6 } as const;

/** SentencePiece's word-boundary marker; spaces become this before tokenizing. */
export const SPM_SPACE = "\u2581";

export interface SpmVocab {
  tokens: string[];
  scores: number[];
  tokenTypes: number[];
  unkId: number;
  bosId: number;
  eosId: number;
}

export const SPECIAL_PIECES = ["<unk>", "<s>", "</s>"] as const;

export function byteToken(byte: number): string {
  return `<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`;
}

/**
 * Builds an SPM vocab: `<unk>`, `<s>`, `</s>`, the 256 byte-fallback tokens `<0x00>`..`<0xFF>`, then `pieces`
 * (normal tokens, in order of preference: earlier pieces get higher scores, which is the merge priority of
 * llama.cpp's SPM tokenizer). Duplicate pieces are dropped.
 */
export function buildSpmVocab(pieces: readonly string[]): SpmVocab {
  const tokens: string[] = [...SPECIAL_PIECES];
  const scores: number[] = [0, 0, 0];
  const tokenTypes: number[] = [TOKEN_TYPE.unknown, TOKEN_TYPE.control, TOKEN_TYPE.control];
  for (let byte = 0; byte < 256; byte++) {
    tokens.push(byteToken(byte));
    scores.push(0);
    tokenTypes.push(TOKEN_TYPE.byte);
  }
  const seen = new Set(tokens);
  let rank = 0;
  for (const piece of pieces) {
    if (piece.length === 0 || seen.has(piece)) continue;
    seen.add(piece);
    tokens.push(piece);
    scores.push(-rank);
    tokenTypes.push(TOKEN_TYPE.normal);
    rank++;
  }
  return { tokens, scores, tokenTypes, unkId: 0, bosId: 1, eosId: 2 };
}
