import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { getLlama, LlamaLogLevel, type Token } from "node-llama-cpp";
import { CouncilError } from "../../core/index.js";
import type { ReadingExample } from "./reading-corpus.js";

export interface TokenizedSplit {
  examples: number;
  tokens: number;
  /** Examples dropped: longer than `maxLength` tokens, or a prompt whose tokens change when the answer follows. */
  dropped: number;
}

/**
 * Tokenizes examples with llama.cpp's own tokenizer (the GGUF's vocabulary, loaded vocab-only) exactly as the
 * runtime does at inference: BOS + prompt (no leading space), then the answer tokens as the model must generate
 * them after that prompt, then EOS. Writes `<name>.tokens` (uint16) and `<name>.index` (int32 offset, prompt
 * length, total length per example) for the trainer, and returns the validation decode items.
 */
export async function tokenizeReadingCorpus({ modelPath, folder, splits, maxLength, validationDecode, decodeKinds = ["read"] }: {
  modelPath: string;
  folder: string;
  splits: Record<"train" | "val", readonly ReadingExample[]>;
  maxLength: number;
  /** How many validation examples to write as decode items. */
  validationDecode: number;
  /** Which kinds they are drawn from, in equal shares (a compose stage measures both). @default ["read"] */
  decodeKinds?: readonly ReadingExample["kind"][];
}): Promise<Record<"train" | "val", TokenizedSplit> & { bos: number; eos: number }> {
  const llama = await getLlama({ gpu: false, build: "never", progressLogs: false, logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath, vocabOnly: true });
  try {
    const bos = model.tokens.bos;
    const eos = model.tokens.eos;
    if (bos === null || eos === null) throw new CouncilError("TRAINING_FAILED", "the seedling vocabulary has no BOS or EOS token");
    if (model.tokenizer("x").some((token) => Number(token) > 65535)) throw new CouncilError("TRAINING_FAILED", "vocabulary too large for uint16 token files");
    const encode = (example: ReadingExample): { ids: number[]; promptLength: number } | undefined => {
      const prompt = model.tokenize(example.prompt, false, "trimLeadingSpace");
      const full = model.tokenize(example.prompt + example.completion, false, "trimLeadingSpace");
      for (let i = 0; i < prompt.length; i++) if (full[i] !== prompt[i]) return undefined;
      const ids = [Number(bos), ...full.map(Number), Number(eos)];
      return ids.length > maxLength ? undefined : { ids, promptLength: prompt.length + 1 };
    };
    const result = { bos: Number(bos), eos: Number(eos) } as Record<"train" | "val", TokenizedSplit> & { bos: number; eos: number };
    const decodeItems: Array<{ prompt: number[]; command: string; page: string; kind: ReadingExample["kind"] }> = [];
    const perKind = Math.ceil(validationDecode / decodeKinds.length);
    const decoded = (kind: ReadingExample["kind"]) => decodeItems.filter((item) => item.kind === kind).length;
    for (const name of ["train", "val"] as const) {
      const tokens: number[] = [];
      const index: number[] = [];
      let dropped = 0;
      for (const example of splits[name]) {
        const encoded = encode(example);
        if (encoded === undefined) {
          dropped++;
          continue;
        }
        index.push(tokens.length, encoded.promptLength, encoded.ids.length);
        for (const id of encoded.ids) tokens.push(id);
        if (name === "val" && decodeKinds.includes(example.kind) && example.command !== undefined && decodeItems.length < validationDecode && decoded(example.kind) < perKind) {
          decodeItems.push({ prompt: encoded.ids.slice(0, encoded.promptLength), command: example.command, page: example.page, kind: example.kind });
        }
      }
      await writeFile(join(folder, `${name}.tokens`), new Uint16Array(tokens));
      await writeFile(join(folder, `${name}.index`), new Int32Array(index));
      result[name] = { examples: index.length / 3, tokens: tokens.length, dropped };
    }
    await writeFile(join(folder, "val-items.json"), JSON.stringify(decodeItems));
    return result;
  } finally {
    await model.dispose();
  }
}

export type { Token };
