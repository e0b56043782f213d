export { buildSpmVocab, byteToken, SPECIAL_PIECES, SPM_SPACE, TOKEN_TYPE, type SpmVocab } from "./spm-vocab.js";
export { learnBpe, preTokenize, toSpmText, type LearnBpeOptions, type LearnedBpe } from "./learn-bpe.js";
