import { writeGguf } from "../models/index.js";

/**
 * Test support (not exported from the index): writes a small, structurally valid LoRA adapter GGUF — `general.type`,
 * `adapter.type`, `adapter.lora.alpha` and one 8×8 A/B pair of zeros — with `salt` in its metadata so each call can
 * produce a distinct content hash. Enough for the registry's header check and the GGUF reader; no base model matches it.
 */
export async function writeTestAdapter({ path, salt = "", generalType = "adapter", adapterType = "lora" }: { path: string; salt?: string; generalType?: string; adapterType?: string }): Promise<void> {
  await writeGguf({
    path,
    kv: [
      { key: "general.type", type: "string", value: generalType },
      { key: "adapter.lora.alpha", type: "f32", value: 0 },
      { key: "adapter.type", type: "string", value: adapterType },
      { key: "test.salt", type: "string", value: salt },
    ],
    tensors: ["blk.0.attn_q.weight.lora_a", "blk.0.attn_q.weight.lora_b"].map((name) => ({ name, dims: [8, 8], data: new Float32Array(64) })),
  });
}
