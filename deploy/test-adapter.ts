import { writeFile } from "node:fs/promises";

/**
 * Test support (not exported from the index): writes a minimal LoRA adapter GGUF header — magic, version 3,
 * `general.type`, `adapter.type`, `adapter.lora.alpha` and two tensor infos — plus `salt` bytes so each call
 * can produce a distinct content hash. Enough for the registry's header check; not loadable by llama.cpp.
 */
export async function writeTestAdapter({ path, salt = "", generalType = "adapter", adapterType = "lora" }: { path: string; salt?: string; generalType?: string; adapterType?: string }): Promise<void> {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  const u64 = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    return b;
  };
  const str = (s: string) => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);
  parts.push(Buffer.from("GGUF"), u32(3), u64(2), u64(3));
  parts.push(str("general.type"), u32(8), str(generalType));
  parts.push(str("adapter.lora.alpha"), u32(6), Buffer.alloc(4));
  parts.push(str("adapter.type"), u32(8), str(adapterType));
  for (const name of ["blk.0.attn_q.weight.lora_a", "blk.0.attn_q.weight.lora_b"]) parts.push(str(name), u32(2), u64(8), u64(8), u32(0), u64(0));
  parts.push(Buffer.alloc(64), Buffer.from(salt));
  await writeFile(path, Buffer.concat(parts));
}
