// bf16 GEMM twin: the exact sums native/gemm_bf16.h defines, in plain
// TypeScript (the portable fallback and the native kernels' oracle). Each
// addition is done in float64 and rounded with Math.fround: the product of two
// bf16 values is exact in float32, and a float64 sum of two float32 values
// rounds to the correctly rounded float32 sum.
import type { Bf16BatchedGemmArgs, Bf16GemmArgs, Bf16Kernels, PackedBf16, PackedGemmArgs } from '../types.js';
import { packedBf16Length, validateBf16Round, validateGemmBf16, validateGemmBatched, validatePackBf16, validatePackedGemm } from '../gemm-args.js';

const bits = new Uint32Array(1);
const asFloat = new Float32Array(bits.buffer);

/** fp32 -> bf16 bits, round to nearest even; denormals flush to signed zero, NaN stays NaN. */
export function toBf16(x: number): number {
  asFloat[0] = x;
  const u = bits[0]!;
  if ((u & 0x7f800000) === 0) return (u >>> 16) & 0x8000;
  if ((u & 0x7fffffff) >>> 0 > 0x7f800000) return (u >>> 16) | 0x0040;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bf16ToFloat(h: number): number {
  bits[0] = h << 16;
  return asFloat[0]!;
}

const NR = 32;
const BLOCK_PAIRS = 128;

/** Element i of an operand as bf16 bits: fp32 values rounded, bf16 values (a Uint16Array) as they are. */
function bitsAt(x: Float32Array | Uint16Array, i: number): number {
  return x instanceof Uint16Array ? x[i]! : toBf16(x[i]!);
}

function pack(b: Float32Array | Uint16Array, transB: boolean, k: number, n: number, ldb: number, bOffset: number, out: PackedBf16): void {
  const kp = Math.ceil(k / 2);
  const d = out.data;
  const at = (p: number, j: number): number => bitsAt(b, transB ? bOffset + j * ldb + p : bOffset + p * ldb + j);
  for (let q = 0; q * NR < n; q++) {
    for (let t = 0; t < kp; t++) {
      for (let j = 0; j < NR; j++) {
        const col = q * NR + j;
        const base = ((q * kp + t) * NR + j) * 2;
        d[base] = col < n ? at(2 * t, col) : 0;
        d[base + 1] = col < n && 2 * t + 1 < k ? at(2 * t + 1, col) : 0;
      }
    }
  }
}

function multiply(args: PackedGemmArgs, aOffset: number, cOffset: number): void {
  const { transA, m, n, k, alpha, beta, a, lda, c, ldc } = args;
  const fround = Math.fround;
  if (m === 0 || n === 0) return;
  if (k === 0) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const at = cOffset + i * ldc + j;
        c[at] = beta === 0 ? 0 : beta * c[at]!;
      }
    }
    return;
  }
  const kp = Math.ceil(k / 2);
  const packed = args.b.data;
  const row = new Float64Array(2 * kp);
  const col = new Float64Array(2 * kp);
  for (let i = 0; i < m; i++) {
    row.fill(0);
    for (let p = 0; p < k; p++) row[p] = bf16ToFloat(bitsAt(a, transA ? aOffset + p * lda + i : aOffset + i * lda + p));
    for (let j = 0; j < n; j++) {
      const q = Math.floor(j / NR);
      for (let t = 0; t < kp; t++) {
        const base = ((q * kp + t) * NR + (j % NR)) * 2;
        col[2 * t] = bf16ToFloat(packed[base]!);
        col[2 * t + 1] = bf16ToFloat(packed[base + 1]!);
      }
      const at = cOffset + i * ldc + j;
      for (let t0 = 0; t0 < kp; t0 += BLOCK_PAIRS) {
        let s = 0;
        const t1 = Math.min(kp, t0 + BLOCK_PAIRS);
        for (let t = t0; t < t1; t++) {
          s = fround(s + row[2 * t + 1]! * col[2 * t + 1]!);
          s = fround(s + row[2 * t]! * col[2 * t]!);
        }
        const v = fround(alpha * s);
        if (t0 > 0) c[at] = fround(v + c[at]!);
        else c[at] = beta === 0 ? v : fround(v + fround(beta * c[at]!));
      }
    }
  }
}

export const jsGemmBf16: Bf16Kernels = {
  packBf16(b, transB, k, n, ldb, bOffset = 0, out) {
    const packed = validatePackBf16(b, transB, k, n, ldb, bOffset, out);
    pack(b, transB, k, n, ldb, bOffset, packed);
    return packed;
  },
  gemmBf16Packed(args) {
    const o = validatePackedGemm(args);
    multiply(args, o.aOffset, o.cOffset);
  },
  gemmBf16(args: Bf16GemmArgs) {
    const o = validateGemmBf16(args);
    const b = { data: new Uint16Array(packedBf16Length(args.k, args.n)), k: args.k, n: args.n };
    pack(args.b, args.transB, args.k, args.n, args.ldb, o.bOffset, b);
    multiply({ ...args, b }, o.aOffset, o.cOffset);
  },
  bf16Round(x, out, n, xOffset = 0, outOffset = 0) {
    const o = validateBf16Round(x, out, n, xOffset, outOffset);
    for (let i = 0; i < n; i++) out[o.out + i] = toBf16(x[o.x + i]!);
  },
  gemmBatchedBf16(args: Bf16BatchedGemmArgs) {
    const o = validateGemmBatched(args, false, 'gemmBatchedBf16');
    for (let io = 0; io < args.batchOuter; io++) {
      for (let ii = 0; ii < args.batchInner; ii++) {
        jsGemmBf16.gemmBf16({
          transA: args.transA, transB: args.transB, m: args.m, n: args.n, k: args.k, alpha: args.alpha, beta: args.beta,
          a: args.a, aOffset: o.aOffset + io * args.strideAOuter + ii * args.strideAInner, lda: args.lda,
          b: args.b, bOffset: o.bOffset + io * args.strideBOuter + ii * args.strideBInner, ldb: args.ldb,
          c: args.c, cOffset: o.cOffset + io * args.strideCOuter + ii * args.strideCInner, ldc: args.ldc,
        });
      }
    }
  },
};
