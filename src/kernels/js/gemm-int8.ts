// int8 GEMM twin: the exact quantization, integer sums and epilogue of
// native/gemm_int8.h in plain TypeScript (fallback and oracle). Integer sums
// are exact in float64; each fp32 operation is a float64 one rounded with
// Math.fround, which gives the fp32 result for +, -, * and /.
import type { Int8GemmArgs, Int8Kernels } from '../types.js';
import { validateInt8Gemm } from '../gemm-args.js';
import { roundHalfEven } from '../int8.js';
import { jsElementwise } from './elementwise.js';

/** Quantizes one row of k floats: the u8 values into q, returns [scale, zeroPoint]. */
export function quantizeRowU8(x: Float32Array, offset: number, k: number, q: Uint8Array): [number, number] {
  const fround = Math.fround;
  let lo = 0;
  let hi = 0;
  for (let p = 0; p < k; p++) {
    const v = x[offset + p]!;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  let scale = fround(fround(hi - lo) / 255);
  if (scale === 0) scale = 1;
  const inv = fround(1 / scale);
  const zp = Math.min(255, Math.max(0, roundHalfEven(fround(-lo * inv))));
  for (let p = 0; p < k; p++) q[p] = Math.min(255, Math.max(0, roundHalfEven(fround(x[offset + p]! * inv)) + zp));
  return [scale, zp];
}

export const jsGemmInt8: Int8Kernels = {
  gemmInt8(args: Int8GemmArgs): void {
    const o = validateInt8Gemm(args);
    const { m, n, k, a, lda, b, bias, c, ldc } = args;
    const fround = Math.fround;
    const kq = Math.ceil(k / 4);
    const q = new Uint8Array(k);
    for (let i = 0; i < m; i++) {
      const [scale, zp] = quantizeRowU8(a, o.aOffset + i * lda, k, q);
      for (let j = 0; j < n; j++) {
        const base = Math.floor(j / 32) * kq * 128 + (j % 32) * 4;
        let acc = 0;
        for (let p = 0; p < k; p++) acc += q[p]! * b.data[base + (p >> 2) * 128 + (p & 3)]!;
        const v = fround(fround(scale * b.scale[j]!) * fround(acc - zp * b.colSum[j]!));
        c[o.cOffset + i * ldc + j] = bias ? fround(v + bias[j]!) : v;
      }
      const row = c.subarray(o.cOffset + i * ldc, o.cOffset + i * ldc + n);
      if (args.gelu) jsElementwise.gelu(row, row, n);
      if (args.residual) jsElementwise.add(row, args.residual.subarray(o.cOffset + i * ldc), row, n);
    }
    const ln = args.layerNorm;
    if (ln && m > 0) {
      const span = o.cOffset + m * n;
      jsElementwise.layerNorm(c.subarray(o.cOffset, span), ln.gamma, ln.beta, ln.out.subarray(o.cOffset, span), ln.mean, ln.rstd, m, n, ln.eps);
    }
  },
};
