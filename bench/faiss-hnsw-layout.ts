// Where a serialised FAISS HNSW index keeps efSearch. faiss-node 0.5.1 can build `HNSW32` from the index factory
// but has no setter for efSearch (HNSW's default, 16, loses recall at top-10); like nprobe for IVF, it is patched
// in the index's own serialisation (faiss 1.7 write_index: header, then write_HNSW, then the storage index).
// Used by bench/memory-index-types.ts (HNSW vs IVF); the store itself builds IVF only.

/**
 * Byte offset of `efSearch` (int32) in a `toBuffer()`/`write()` of an IndexHNSWFlat with the L2 or inner-product
 * metric; `efConstruction` is the int32 just before it. Throws when the bytes are not that layout.
 */
export function hnswEfSearchOffset(buffer: Uint8Array): number {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const fourcc = String.fromCharCode(buffer[0] ?? 0, buffer[1] ?? 0, buffer[2] ?? 0, buffer[3] ?? 0);
  if (fourcc !== "IHNf") throw new Error(`not an HNSW flat index (type ${JSON.stringify(fourcc)})`);
  // write_index_header: fourcc, d (int32), ntotal (int64), two dummies (int64), is_trained (u8), metric (int32).
  if (buffer.byteLength < 37 || view.getInt32(33, true) > 1) throw new Error("HNSW index header is short or has a metric argument");
  let offset = 37;
  // write_HNSW: assign_probas (f64), cum_nneighbor_per_level (i32), levels (i32), offsets (u64), neighbors (i32),
  // each as a u64 length and the items; then entry_point, max_level, efConstruction, efSearch, upper_beam (i32).
  for (const itemBytes of [8, 4, 4, 8, 4]) {
    if (offset + 8 > buffer.byteLength) throw new Error("HNSW index is truncated");
    const count = Number(view.getBigUint64(offset, true));
    offset += 8 + count * itemBytes;
  }
  const efSearch = offset + 12;
  if (efSearch + 8 > buffer.byteLength) throw new Error("HNSW index is truncated");
  const efConstruction = view.getInt32(efSearch - 4, true);
  const ef = view.getInt32(efSearch, true);
  if (efConstruction < 1 || efConstruction > 1 << 16 || ef < 1 || ef > 1 << 16) throw new Error(`unexpected HNSW layout (efConstruction ${efConstruction}, efSearch ${ef})`);
  return efSearch;
}
