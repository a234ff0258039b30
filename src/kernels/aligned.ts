// Float32Arrays that start on a 64-byte cache line. V8 starts large buffers 16 bytes past
// one, so every full AVX-512 vector a native kernel loads or stores there straddles two
// lines; on this project's benchmark machine that made streaming kernels up to 1.4x slower.
import { loadAddon } from './native/addon.js';

const CACHE_LINE_BYTES = 64;
/** Below this, V8 may keep a typed array's elements on its own heap, where the GC moves them. */
const MIN_ALIGNED_FLOATS = 1024;

/** A zero-filled Float32Array of n elements whose first element is cache-line aligned when the native addon can say where it is. */
export function alignedFloat32Array(n: number): Float32Array {
  const addon = loadAddon().addon;
  if (!addon || n < MIN_ALIGNED_FLOATS) return new Float32Array(n);
  const spare = CACHE_LINE_BYTES / 4 - 1;
  const buffer = new Float32Array(n + spare);
  const offset = addon.cacheLineOffset(buffer);
  if (offset % 4 !== 0) return new Float32Array(n);
  const skip = ((CACHE_LINE_BYTES - offset) % CACHE_LINE_BYTES) / 4;
  return buffer.subarray(skip, skip + n);
}
