import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { z } from "zod";
import { CouncilError, NATIVE_BUILD_DIR, PROJECT_ROOT } from "../core/index.js";
import type { ChatTemplate } from "../models/index.js";
import { sha256File } from "../models/gguf/index.js";
import { runTraining } from "./run-training.js";
import type { Trainer, TrainOptions, TrainResult } from "./types.js";

/** GGUF tensor short names → the Hugging Face module names PEFT targets (llama family). */
export const HF_TARGET_NAMES: Readonly<Record<string, string>> = {
  attn_q: "q_proj",
  attn_k: "k_proj",
  attn_v: "v_proj",
  attn_output: "o_proj",
  ffn_gate: "gate_proj",
  ffn_up: "up_proj",
  ffn_down: "down_proj",
  // the output head (a default target): PEFT wraps lm_head, which bitsandbytes leaves unquantized; the converter maps it back to output.weight
  "output.weight": "lm_head",
};

export const QLORA_SCRIPT = join(PROJECT_ROOT, "training", "qlora", "train_qlora.py");

export interface QloraTrainerOptions {
  /** Python with the packages of training/qlora/requirements.txt. @default "python3" */
  python?: string;
  /** @default training/qlora/train_qlora.py */
  script?: string;
  /** llama.cpp source tree holding convert_lora_to_gguf.py and gguf-py. @default native/build/llama.cpp */
  llamaCppDir?: string;
  /** Examples per device batch. @default 4 */
  batchSize?: number;
  /** @default 2048 */
  maxLength?: number;
  /** Python module train_qlora.py loads for its one CUDA step (tokenizer, 4-bit model, PEFT wrapping; `--backend`). @default "qlora_cuda" */
  backend?: string;
  /** The Python process's whole environment (tests add PYTHONPATH to a stand-in backend). @default the parent's */
  env?: NodeJS.ProcessEnv;
  freeBytes?: (dir: string) => Promise<number>;
  now?: () => number;
}

const hfConfigSchema = z.object({ model_type: z.string() }).passthrough();
const tokenText = z.union([z.string(), z.object({ content: z.string() }).passthrough()]).transform((token) => (typeof token === "string" ? token : token.content));
/** The parts of tokenizer_config.json a chat template needs; `chat_template` is a string or a list of named templates. */
const tokenizerConfigSchema = z
  .object({
    chat_template: z.union([z.string(), z.array(z.object({ name: z.string(), template: z.string() }))]).optional(),
    bos_token: tokenText.nullish(),
    eos_token: tokenText.nullish(),
  })
  .passthrough();

/** The folder's own chat template (tokenizer_config.json `chat_template`, the `default` one of a list); undefined when it has none. */
export async function hfChatTemplate(base: string): Promise<ChatTemplate | undefined> {
  const text = await readFile(join(base, "tokenizer_config.json"), "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new CouncilError("MODEL_INVALID", `${join(base, "tokenizer_config.json")} is not valid JSON.`, { cause, details: { path: base } });
  }
  const parsed = tokenizerConfigSchema.safeParse(value);
  if (!parsed.success) throw new CouncilError("MODEL_INVALID", `${join(base, "tokenizer_config.json")}: ${parsed.error.issues[0]?.message ?? "unexpected shape"}.`, { details: { path: base } });
  const { chat_template: chatTemplate, bos_token: bosToken, eos_token: eosToken } = parsed.data;
  const template = typeof chatTemplate === "string" ? chatTemplate : chatTemplate?.find((entry) => entry.name === "default")?.template;
  if (template === undefined || template.trim() === "") return undefined;
  return { template, ...(bosToken ? { bosToken } : {}), ...(eosToken ? { eosToken } : {}) };
}
const LLAMA_FAMILY = new Set(["llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "phi3", "granite", "smollm"]);

/**
 * GPU path: QLoRA (transformers + peft + bitsandbytes 4-bit) on a Hugging Face checkpoint, then
 * llama.cpp's convert_lora_to_gguf.py turns the PEFT adapter into a GGUF adapter for the GGUF converted
 * from the same checkpoint. Needs a CUDA host with the Python packages; see training/qlora/README.md.
 */
export class QloraTrainer implements Trainer {
  readonly name = "qlora" as const;

  private constructor(private readonly settings: QloraTrainerOptions) {}

  static async create(settings: QloraTrainerOptions = {}): Promise<QloraTrainer> {
    const script = settings.script ?? QLORA_SCRIPT;
    const present = await stat(script).catch(() => undefined);
    if (present === undefined) throw new CouncilError("NATIVE_MISSING", `The QLoRA script ${script} is missing.`, { details: { path: script } });
    return new QloraTrainer(settings);
  }

  train(options: TrainOptions): Promise<TrainResult> {
    const { python = "python3", script = QLORA_SCRIPT, llamaCppDir = join(NATIVE_BUILD_DIR, "llama.cpp"), batchSize = 4, maxLength = 2048, backend, env } = this.settings;
    if (options.resumeAdapter !== undefined) {
      return Promise.reject(new CouncilError("CONFIG_INVALID", "The qlora trainer starts a new adapter every time; resumeAdapter is only supported by llamacpp-lora."));
    }
    return runTraining({
      trainer: this.name,
      options,
      inspectBase: inspectHfBase,
      minFreeBytes: 256 * 1024 * 1024,
      freeBytes: this.settings.freeBytes,
      now: this.settings.now,
      extra: { quantization: "nf4", batchSize, maxLength },
      command: ({ dataset, base, adapterPath, workDir, hyperparameters: h }) => {
        const modules = h.targets.map((target) => {
          const module = HF_TARGET_NAMES[target];
          if (module === undefined) throw new CouncilError("CONFIG_INVALID", `The qlora trainer cannot map target "${target}" to a Hugging Face module (known: ${Object.keys(HF_TARGET_NAMES).join(", ")}).`);
          return module;
        });
        return {
          command: python,
          args: [
            script,
            "--base", base,
            "--data", dataset.file,
            "--out", adapterPath,
            "--work", join(workDir, "peft"),
            "--rank", String(h.rank),
            "--alpha", String(h.alpha),
            "--epochs", String(h.epochs),
            "--lr", String(h.learningRate),
            "--targets", modules.join(","),
            "--batch-size", String(batchSize),
            "--max-length", String(maxLength),
            "--llama-cpp", llamaCppDir,
            ...(backend !== undefined ? ["--backend", backend] : []),
          ],
          ...(env !== undefined ? { env } : {}),
        };
      },
    });
  }
}

/** A Hugging Face model folder with a llama-family config.json. Its sha256 covers every file (path + content); its chat template renders conversational datasets. */
export async function inspectHfBase(base: string): Promise<{ sha256: string; name?: string; chatTemplate?: ChatTemplate }> {
  const info = await stat(base).catch(() => undefined);
  if (info === undefined) throw new CouncilError("MODEL_NOT_FOUND", `Base model folder ${base} does not exist.`, { details: { path: base } });
  if (!info.isDirectory()) throw new CouncilError("MODEL_INVALID", `The qlora trainer needs a Hugging Face model folder (config.json + safetensors), not the file ${base}.`, { details: { path: base } });
  const configText = await readFile(join(base, "config.json"), "utf8").catch(() => undefined);
  if (configText === undefined) throw new CouncilError("MODEL_INVALID", `${base} has no config.json; it is not a Hugging Face model folder.`, { details: { path: base } });
  let config: unknown;
  try {
    config = JSON.parse(configText);
  } catch (cause) {
    throw new CouncilError("MODEL_INVALID", `${join(base, "config.json")} is not valid JSON.`, { cause, details: { path: base } });
  }
  const parsed = hfConfigSchema.safeParse(config);
  if (!parsed.success || !LLAMA_FAMILY.has(parsed.data.model_type)) {
    throw new CouncilError("MODEL_INVALID", `${base} is not a llama-family model (model_type ${parsed.success ? parsed.data.model_type : "missing"}).`, { details: { path: base } });
  }
  const files = (await readdir(base, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name)).sort();
  const hash = createHash("sha256");
  for (const file of files) hash.update(`${relative(base, file)}\0${await sha256File(file)}\n`);
  const chatTemplate = await hfChatTemplate(base);
  return { sha256: hash.digest("hex"), name: parsed.data.model_type, ...(chatTemplate !== undefined ? { chatTemplate } : {}) };
}
