import { basename } from "node:path";
import { CouncilError, isCouncilError } from "../../core/index.js";
import { sha256File } from "./file-hash.js";
import { readGguf, readTensorBytes, readTensorF32 } from "./gguf-reader.js";
import type { GgufFile, GgufKv } from "./gguf-types.js";
import { writeGguf, type GgufTensorInput } from "./gguf-writer.js";
import { SeededRandom } from "./seeded-random.js";

/** What an adapter needs to know about its base model. Read from a GGUF path, or given directly. */
export interface AdapterBaseInfo {
  name: string;
  sha256: string;
  architecture: string;
  /** Base tensor name → ggml dims (ne order). */
  tensors: ReadonlyMap<string, readonly number[]>;
}

export interface LoraPairInit {
  /** ggml dims [in, r] (token_embd: [r, n_vocab]), row-major in ggml order. */
  a: Float32Array;
  /** ggml dims [r, out] (token_embd: [r, n_embd]). */
  b: Float32Array;
}

export interface WriteLoraAdapterOptions {
  /** Path of the base GGUF, or its info. */
  base: string | AdapterBaseInfo;
  out: string;
  rank: number;
  alpha: number;
  /**
   * Base tensors to adapt: full names (`blk.0.attn_q.weight`) or short names matched in every block
   * (`attn_q` → `blk.*.attn_q.weight`).
   */
  targets: readonly string[];
  /**
   * `zero-b`: A ~ N(0, 1/in), B = 0 (standard LoRA start: no change to the model).
   * `random`: A ~ N(0, 1/in), B ~ N(0, randomScale²/r) (changes the output; for tests).
   * An object: explicit tensors per target name.
   * @default "zero-b"
   */
  init?: "random" | "zero-b" | { tensors: ReadonlyMap<string, LoraPairInit> };
  /** @default 0 */
  seed?: number;
  /** Std multiplier for B under `random`. @default 1 */
  randomScale?: number;
  /** Extra metadata (e.g. training provenance). */
  extraKv?: readonly GgufKv[];
}

export async function readAdapterBaseInfo(path: string): Promise<AdapterBaseInfo> {
  const file = readGguf(path);
  const architecture = file.metadata.get("general.architecture");
  if (typeof architecture !== "string") throw new CouncilError("MODEL_INVALID", `${path}: general.architecture is missing`, { details: { path } });
  const name = file.metadata.get("general.name");
  return {
    name: typeof name === "string" ? name : basename(path),
    sha256: await sha256File(path),
    architecture,
    tensors: new Map(file.tensors.map((tensor) => [tensor.name, tensor.dims])),
  };
}

/** Resolves targets to base tensor names (each a 2-D weight). */
export function resolveLoraTargets(base: AdapterBaseInfo, targets: readonly string[]): string[] {
  const names = new Set<string>();
  for (const target of targets) {
    if (base.tensors.has(target)) {
      names.add(target);
      continue;
    }
    const pattern = new RegExp(`^blk\\.\\d+\\.${target.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.weight$`);
    const matched = [...base.tensors.keys()].filter((name) => pattern.test(name));
    if (matched.length === 0) throw new CouncilError("ADAPTER_MISMATCH", `LoRA target "${target}" matches no tensor of base model ${base.name}`, { details: { target } });
    for (const name of matched) names.add(name);
  }
  for (const name of names) {
    const dims = base.tensors.get(name);
    if (dims === undefined || dims.length !== 2) throw new CouncilError("ADAPTER_MISMATCH", `LoRA target "${name}" is not a 2-D weight`, { details: { target: name } });
  }
  return [...names].sort();
}

/** ggml dims of the A and B tensors for a base weight (see llama.cpp src/llama-adapter.cpp shape checks). */
export function loraPairDims(name: string, baseDims: readonly number[], rank: number): { a: number[]; b: number[] } {
  const [ne0 = 0, ne1 = 0] = baseDims;
  // token_embd is a lookup table: llama.cpp expects A and B flipped (A [r, n_vocab], B [r, n_embd]).
  if (name.endsWith("token_embd.weight")) return { a: [rank, ne1], b: [rank, ne0] };
  return { a: [ne0, rank], b: [rank, ne1] };
}

/** Writes a LoRA adapter GGUF that llama.cpp (and node-llama-cpp) loads onto `base`. */
export async function writeLoraAdapter({ base, out, rank, alpha, targets, init = "zero-b", seed = 0, randomScale = 1, extraKv = [] }: WriteLoraAdapterOptions): Promise<{ path: string; bytes: number; tensors: string[] }> {
  if (!Number.isInteger(rank) || rank < 1) throw new CouncilError("ADAPTER_INVALID", `LoRA rank must be a positive integer (got ${rank})`);
  if (!Number.isFinite(alpha) || alpha <= 0) throw new CouncilError("ADAPTER_INVALID", `LoRA alpha must be a positive number (got ${alpha})`);
  const info = typeof base === "string" ? await readAdapterBaseInfo(base) : base;
  const names = resolveLoraTargets(info, targets);
  const random = new SeededRandom(seed);
  const tensors: GgufTensorInput[] = [];
  for (const name of names) {
    const dims = loraPairDims(name, info.tensors.get(name) ?? [], rank);
    const aSize = (dims.a[0] ?? 0) * (dims.a[1] ?? 0);
    const bSize = (dims.b[0] ?? 0) * (dims.b[1] ?? 0);
    let pair: LoraPairInit;
    if (typeof init === "object") {
      const given = init.tensors.get(name);
      if (given === undefined) throw new CouncilError("ADAPTER_INVALID", `custom LoRA init has no tensors for "${name}"`);
      if (given.a.length !== aSize || given.b.length !== bSize) throw new CouncilError("ADAPTER_INVALID", `custom LoRA tensors for "${name}" must have ${aSize} (A) and ${bSize} (B) values`);
      pair = given;
    } else {
      const fanIn = name.endsWith("token_embd.weight") ? (dims.b[1] ?? 1) : (dims.a[0] ?? 1);
      const a = random.normalArray(aSize, 1 / Math.sqrt(fanIn));
      const b = init === "random" ? random.normalArray(bSize, randomScale / Math.sqrt(rank)) : new Float32Array(bSize);
      pair = { a, b };
    }
    tensors.push({ name: `${name}.lora_a`, dims: dims.a, data: pair.a }, { name: `${name}.lora_b`, dims: dims.b, data: pair.b });
  }
  const kv: GgufKv[] = [
    { key: "general.architecture", type: "string", value: info.architecture },
    { key: "general.type", type: "string", value: "adapter" },
    { key: "general.name", type: "string", value: basename(out).replace(/\.gguf$/, "") },
    { key: "adapter.type", type: "string", value: "lora" },
    { key: "adapter.lora.alpha", type: "f32", value: alpha },
    { key: "council.lora.rank", type: "u32", value: rank },
    { key: "council.base.name", type: "string", value: info.name },
    { key: "council.base.sha256", type: "string", value: info.sha256 },
    ...extraKv,
  ];
  const written = await writeGguf({ path: out, kv, tensors });
  return { ...written, tensors: names };
}

export interface AdapterSummary {
  path: string;
  alpha: number;
  rank: number;
  baseName: string | undefined;
  baseSha256: string | undefined;
  /** Adapted base tensors. */
  targets: string[];
}

function adapterInvalid(path: string, message: string): CouncilError {
  return new CouncilError("ADAPTER_INVALID", `${path}: ${message}. Retrain or re-export the adapter.`, { details: { path } });
}

/** Reads an adapter GGUF and checks it is a well-formed LoRA adapter (ADAPTER_INVALID otherwise). */
export function readLoraAdapter(path: string): { file: GgufFile; summary: AdapterSummary } {
  let file: GgufFile;
  try {
    file = readGguf(path);
  } catch (error) {
    if (isCouncilError(error, "GGUF_INVALID")) throw new CouncilError("ADAPTER_INVALID", `${path}: not a valid GGUF file (${error.message})`, { cause: error, details: { path } });
    if (isCouncilError(error, "MODEL_NOT_FOUND")) throw new CouncilError("ADAPTER_NOT_FOUND", `${path}: adapter file does not exist`, { cause: error, details: { path } });
    throw error;
  }
  if (file.metadata.get("general.type") !== "adapter") throw adapterInvalid(path, "general.type is not 'adapter'");
  if (file.metadata.get("adapter.type") !== "lora") throw adapterInvalid(path, "adapter.type is not 'lora'");
  const alphaValue = file.metadata.get("adapter.lora.alpha");
  if (typeof alphaValue !== "number" || !Number.isFinite(alphaValue)) throw adapterInvalid(path, "adapter.lora.alpha is missing");
  const pairs = new Map<string, { a?: readonly number[]; b?: readonly number[] }>();
  for (const tensor of file.tensors) {
    const match = /^(.*)\.lora_([ab])$/.exec(tensor.name);
    if (match === null) {
      if (tensor.name.endsWith("_norm.weight")) continue;
      throw adapterInvalid(path, `tensor "${tensor.name}" has an unexpected suffix`);
    }
    const [, target = "", which] = match;
    const pair = pairs.get(target) ?? {};
    if (which === "a") pair.a = tensor.dims;
    else pair.b = tensor.dims;
    pairs.set(target, pair);
  }
  if (pairs.size === 0) throw adapterInvalid(path, "no LoRA tensors");
  let rank: number | undefined;
  for (const [target, pair] of pairs) {
    if (pair.a === undefined || pair.b === undefined) throw adapterInvalid(path, `tensor pair for "${target}" is missing one component`);
    if (pair.a.length !== 2 || pair.b.length !== 2) throw adapterInvalid(path, `tensors for "${target}" are not 2-D`);
    const pairRank = target.endsWith("token_embd.weight") ? pair.a[0] : pair.a[1];
    if (target.endsWith("token_embd.weight") ? pair.b[0] !== pairRank : pair.b[0] !== pairRank) throw adapterInvalid(path, `lora_a and lora_b ranks differ for "${target}"`);
    rank ??= pairRank;
  }
  const baseName = file.metadata.get("council.base.name");
  const baseSha256 = file.metadata.get("council.base.sha256");
  return {
    file,
    summary: {
      path,
      alpha: alphaValue,
      rank: rank ?? 0,
      baseName: typeof baseName === "string" ? baseName : undefined,
      baseSha256: typeof baseSha256 === "string" ? baseSha256 : undefined,
      targets: [...pairs.keys()].sort(),
    },
  };
}

/**
 * Checks an adapter applies to a base model, with llama.cpp's own rules (architecture, tensor names and shapes)
 * plus the recorded base hash when both are known. Throws ADAPTER_INVALID / ADAPTER_MISMATCH / ADAPTER_NOT_FOUND.
 */
export async function validateAdapterForBase({ adapter, base }: { adapter: string; base: string | AdapterBaseInfo }): Promise<AdapterSummary> {
  const { file, summary } = readLoraAdapter(adapter);
  const info = typeof base === "string" ? await readAdapterBaseInfo(base) : base;
  const mismatch = (message: string): CouncilError =>
    new CouncilError("ADAPTER_MISMATCH", `${adapter}: ${message}. Train an adapter for base model ${info.name}.`, { details: { adapter, base: info.name } });
  if (file.metadata.get("general.architecture") !== info.architecture) throw mismatch(`architecture ${String(file.metadata.get("general.architecture"))} does not match base ${info.architecture}`);
  if (summary.baseSha256 !== undefined && summary.baseSha256 !== info.sha256) throw mismatch(`was trained for base ${summary.baseName ?? "?"} (sha256 ${summary.baseSha256.slice(0, 12)}), not this one (${info.sha256.slice(0, 12)})`);
  const dims = new Map(file.tensors.map((tensor) => [tensor.name, tensor.dims]));
  for (const target of summary.targets) {
    const baseDims = info.tensors.get(target);
    if (baseDims === undefined) throw mismatch(`tensor "${target}" does not exist in the base model`);
    const a = dims.get(`${target}.lora_a`) ?? [];
    const b = dims.get(`${target}.lora_b`) ?? [];
    const ok = target.endsWith("token_embd.weight") ? baseDims[0] === b[1] && baseDims[1] === a[1] : baseDims[0] === a[0] && baseDims[1] === b[1];
    if (!ok) throw mismatch(`tensor "${target}" has shape A [${a.join(", ")}] B [${b.join(", ")}], base is [${baseDims.join(", ")}]`);
  }
  return summary;
}

/** Reads one adapter pair's data (for tests and merging tools). */
export function readLoraPair(path: string, target: string): LoraPairInit {
  const { file } = readLoraAdapter(path);
  return { a: readTensorF32(file, `${target}.lora_a`), b: readTensorF32(file, `${target}.lora_b`) };
}


/**
 * Writes a copy of a LoRA adapter with every B tensor zeroed: same tensors, shapes, types and metadata, so
 * llama.cpp does exactly the work of the original per token, but W + (alpha/r)·B·A = W, so the outputs are
 * the base model's. The gate times "no adapter yet" through it, so its latency rule compares like with like.
 */
export async function writeZeroBAdapter({ adapter, out }: { adapter: string; out: string }): Promise<{ path: string; bytes: number }> {
  const { file } = readLoraAdapter(adapter);
  const tensors: GgufTensorInput[] = file.tensors.map((tensor) =>
    tensor.name.endsWith(".lora_b")
      ? { name: tensor.name, dims: tensor.dims, type: tensor.type, bytes: new Uint8Array(tensor.byteSize) }
      : { name: tensor.name, dims: tensor.dims, type: tensor.type, bytes: readTensorBytes(file, tensor.name) },
  );
  const kv = file.kv.filter((entry) => entry.key !== "general.name");
  return writeGguf({ path: out, kv: [...kv, { key: "general.name", type: "string", value: basename(out).replace(/\.gguf$/, "") }], tensors });
}
