/** Deterministic data for the memory-search benches (bench/memory-search.ts, bench/memory-index-types.ts). */

/** Deterministic PRNG (mulberry32) and a normal sampler, so runs are comparable. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

/** Scales `dims` values of `vector` from `offset` to unit length (inner product = cosine). */
export function normalise(vector: Float32Array, dims: number, offset = 0): void {
  let norm = 0;
  for (let i = 0; i < dims; i++) norm += vector[offset + i]! ** 2;
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < dims; i++) vector[offset + i]! *= scale;
}

/**
 * `n` data vectors and `queries` query vectors drawn around 2,000 random unit centres with Gaussian noise
 * (`noise` / √dims per coordinate), normalised; `random` continues the caller's sequence.
 */
export function clusteredData({ n, queries, dims, random, noise = 0.6 }: { n: number; queries: number; dims: number; random: ReturnType<typeof rng>; noise?: number }): { data: Float32Array; queries: Float32Array } {
  const data = new Float32Array(n * dims);
  const queryVectors = new Float32Array(queries * dims);
  const centres = new Float32Array(2000 * dims);
  for (let i = 0; i < centres.length; i++) centres[i] = random.normal();
  for (let c = 0; c < 2000; c++) normalise(centres, dims, c * dims);
  const sample = (target: Float32Array, offset: number) => {
    const c = Math.floor(random.uniform() * 2000) * dims;
    for (let i = 0; i < dims; i++) target[offset + i] = centres[c + i]! + (noise * random.normal()) / Math.sqrt(dims);
    normalise(target, dims, offset);
  };
  for (let i = 0; i < n; i++) sample(data, i * dims);
  for (let q = 0; q < queries; q++) sample(queryVectors, q * dims);
  return { data, queries: queryVectors };
}
