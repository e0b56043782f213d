import { CouncilError } from "../core/index.js";

/**
 * Architectures the native trainer trains; native/lora-train checks the same list. Not gemma2/3 (ggml has no backward
 * for GEGLU and tanh soft-capping) nor phi3 (ggml's backward only handles split SwiGLU; phi3 fuses gate and up).
 */
export const TRAINABLE_ARCHITECTURES = ["llama", "qwen2", "qwen3"] as const;

/** ggml type ids the native trainer backpropagates through (frozen): F32, F16 and the quantized types; not BF16 (ggml's CPU OUT_PROD has no BF16 kernel). */
const BF16 = 30;
const INTEGER_TYPES = new Set([24, 25, 26, 27, 28]); // I8, I16, I32, I64, F64

export function isTrainableWeightType(type: number): boolean {
  return type !== BF16 && !INTEGER_TYPES.has(type);
}

/** Fused projections: a model with `attn_qkv` (phi3, falcon, ...) has no separate attn_q/k/v; phi3's `ffn_up` holds gate and up. */
const FUSED: Readonly<Record<string, string>> = { attn_q: "attn_qkv", attn_k: "attn_qkv", attn_v: "attn_qkv", ffn_gate: "ffn_up" };

function present(target: string, names: ReadonlySet<string>, layered: ReadonlySet<string>): boolean {
  return names.has(target) || layered.has(target);
}

/**
 * Picks the LoRA targets for one base from the requested short names (config `training.targets`) and the
 * base's 2-D tensor names: a name is kept when the base has it (`output.weight`, or `blk.N.<name>.weight`);
 * attn_q/k/v become `attn_qkv` and ffn_gate becomes `ffn_up` where the architecture fuses them (phi3 layout); the
 * rest are skipped (e.g. `output.weight` on a base whose output head is tied to token_embd, as in Qwen2.5-0.5B).
 * Throws CONFIG_INVALID when nothing is left.
 */
export function chooseLoraTargets({ requested, tensorNames, architecture }: { requested: readonly string[]; tensorNames: readonly string[]; architecture: string }): { targets: string[]; skipped: string[] } {
  const names = new Set(tensorNames);
  const layered = new Set<string>();
  for (const name of tensorNames) {
    const match = /^blk\.\d+\.(.+)\.weight$/.exec(name);
    if (match !== null) layered.add(match[1]!);
  }
  const targets: string[] = [];
  const skipped: string[] = [];
  for (const target of requested) {
    const fused = FUSED[target];
    const chosen = present(target, names, layered) ? target : fused !== undefined && present(fused, names, layered) ? fused : undefined;
    if (chosen === undefined) skipped.push(target);
    else if (!targets.includes(chosen)) targets.push(chosen);
  }
  if (targets.length === 0) {
    throw new CouncilError("CONFIG_INVALID", `None of the LoRA targets (${requested.join(", ")}) is a weight of this ${architecture} base; its layer weights are ${[...layered].sort().join(", ") || "none"}.`, {
      details: { key: "targets", architecture, requested },
    });
  }
  return { targets, skipped };
}
