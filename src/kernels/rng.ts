// Counter-based random numbers shared bit-for-bit by both backends (the native
// addon implements the same integer steps), so dropout masks are identical.

/** A 32-bit avalanche hash (lowbias32, Wellons). */
export function mix32(x: number): number {
  x >>>= 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Per-seed key: mix32(seed ^ 0x9e3779b9). Compute once per kernel call. */
export function seedKey(seed: number): number {
  return mix32((seed ^ 0x9e3779b9) >>> 0);
}

/** Uniform in [0, 1) with 24 bits: mix32(key ^ counter) >>> 8, times 2^-24. */
export function uniformAt(key: number, counter: number): number {
  return (mix32((key ^ counter) >>> 0) >>> 8) * 5.9604644775390625e-8;
}

/** The dropout uniform for element `counter` under `seed`. */
export function dropoutUniform(seed: number, counter: number): number {
  return uniformAt(seedKey(seed), counter);
}
