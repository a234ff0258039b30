// Weights for int8 inference (native/gemm_int8.h has the whole definition):
// per output column symmetric int8, made once per set of weight values, in one
// TypeScript implementation both backends use.
import type { PackedInt8 } from './types.js';

/** Round half to even, as the native kernels' rounding mode does. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function packedInt8Length(k: number, n: number): number {
  return Math.ceil(n / 32) * Math.ceil(k / 4) * 128;
}

/**
 * Quantizes a Linear weight W [n = out, k = in] (row stride ldw) for C = A W^T:
 * scale_j = fl(max_p |W[j][p]| / 127) (1 for an all-zero row), q = clamp(rne(fl(W * fl(1 / scale_j))), -127, 127),
 * packed in 32-column panels of depth quads (see PackedInt8).
 */
export function quantizeWeightsInt8(w: Float32Array, n: number, k: number, ldw: number, out?: PackedInt8): PackedInt8 {
  const fround = Math.fround;
  const kq = Math.ceil(k / 4);
  const length = packedInt8Length(k, n);
  const packed = out && out.k === k && out.n === n ? out : {
    data: new Int8Array(length), scale: new Float32Array(n), colSum: new Int32Array(n), k, n,
  };
  packed.data.fill(0);
  for (let j = 0; j < n; j++) {
    let maxAbs = 0;
    for (let p = 0; p < k; p++) maxAbs = Math.max(maxAbs, Math.abs(w[j * ldw + p]!));
    let scale = fround(maxAbs / 127);
    if (scale === 0) scale = 1;
    const inv = fround(1 / scale);
    let sum = 0;
    const base = Math.floor(j / 32) * kq * 128 + (j % 32) * 4;
    for (let p = 0; p < k; p++) {
      const q = Math.min(127, Math.max(-127, roundHalfEven(fround(w[j * ldw + p]! * inv))));
      packed.data[base + (p >> 2) * 128 + (p & 3)] = q;
      sum += q;
    }
    packed.scale[j] = scale;
    packed.colSum[j] = sum;
  }
  return packed;
}
