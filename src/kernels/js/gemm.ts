// Plain TypeScript GEMM: the portable fallback and the oracle the native code is
// tested against. Sums are accumulated in float64 (JS numbers, held in a
// Float64Array row), so the same code serves Float64Array inputs in the model's
// float64 gradient checks.
import type { AttentionContextArgs, BatchedGemmArgs, GemmArgs, GemmKernels } from '../types.js';
import { validateAttentionContext, validateGemm, validateGemmBatched } from '../gemm-args.js';
import { jsElementwise } from './elementwise.js';

/** Float32Array in the model, Float64Array in gradient checks. */
type FloatArray = Float32Array | Float64Array;

/** Rows and columns of C per register tile, and columns of op(B) packed at a time. */
const MR = 4;
const NR = 4;
const NC = 256;

/** Packing buffers, grown on demand and reused across calls. */
let aPack: Float64Array = new Float64Array(0);
let bPack: Float64Array = new Float64Array(0);
function scratch(current: Float64Array, size: number): Float64Array {
  return current.length >= size ? current : new Float64Array(size);
}

/**
 * C[cOff..] = alpha * op(A) op(B) + beta * C for one matrix, arguments already validated.
 * Each C entry is the float64 sum of its k products in order p = 0, 1, ..., as in the
 * unblocked loops below, so results are identical to them; the 4 x 4 register tile over
 * float64 packs of op(A) and op(B) only makes it about 3-4x faster in V8.
 */
function gemmTiled(
  transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, beta: number,
  a: FloatArray, aOff: number, lda: number, b: FloatArray, bOff: number, ldb: number,
  c: FloatArray, cOff: number, ldc: number,
): void {
  const blockCols = Math.min(NC, Math.ceil(n / NR) * NR);
  bPack = scratch(bPack, blockCols * k);
  aPack = scratch(aPack, MR * k);
  const bp = bPack;
  const ap = aPack;
  const tile = new Float64Array(MR * NR);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    // bp[(q / NR) * NR * k + p * NR + q % NR] = op(B)[p, jc + q]; zero past column n.
    for (let q0 = 0; q0 < nc; q0 += NR) {
      const panel = q0 * k;
      for (let q = 0; q < NR; q++) {
        const j = jc + q0 + q;
        if (q0 + q >= nc) {
          for (let p = 0; p < k; p++) bp[panel + p * NR + q] = 0;
        } else if (transB) {
          const row = bOff + j * ldb;
          for (let p = 0; p < k; p++) bp[panel + p * NR + q] = b[row + p]!;
        } else {
          for (let p = 0; p < k; p++) bp[panel + p * NR + q] = b[bOff + p * ldb + j]!;
        }
      }
    }
    for (let i0 = 0; i0 < m; i0 += MR) {
      const rows = Math.min(MR, m - i0);
      // ap[p * MR + r] = op(A)[i0 + r, p]; zero past row m.
      for (let r = 0; r < MR; r++) {
        if (r >= rows) {
          for (let p = 0; p < k; p++) ap[p * MR + r] = 0;
        } else if (transA) {
          for (let p = 0; p < k; p++) ap[p * MR + r] = a[aOff + p * lda + i0 + r]!;
        } else {
          const row = aOff + (i0 + r) * lda;
          for (let p = 0; p < k; p++) ap[p * MR + r] = a[row + p]!;
        }
      }
      for (let q0 = 0; q0 < nc; q0 += NR) {
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (let p = 0, ao = 0, bo = q0 * k; p < k; p++, ao += MR, bo += NR) {
          const a0 = ap[ao]!, a1 = ap[ao + 1]!, a2 = ap[ao + 2]!, a3 = ap[ao + 3]!;
          let bv = bp[bo]!;
          c00 += a0 * bv; c10 += a1 * bv; c20 += a2 * bv; c30 += a3 * bv;
          bv = bp[bo + 1]!;
          c01 += a0 * bv; c11 += a1 * bv; c21 += a2 * bv; c31 += a3 * bv;
          bv = bp[bo + 2]!;
          c02 += a0 * bv; c12 += a1 * bv; c22 += a2 * bv; c32 += a3 * bv;
          bv = bp[bo + 3]!;
          c03 += a0 * bv; c13 += a1 * bv; c23 += a2 * bv; c33 += a3 * bv;
        }
        tile[0] = c00; tile[1] = c01; tile[2] = c02; tile[3] = c03;
        tile[4] = c10; tile[5] = c11; tile[6] = c12; tile[7] = c13;
        tile[8] = c20; tile[9] = c21; tile[10] = c22; tile[11] = c23;
        tile[12] = c30; tile[13] = c31; tile[14] = c32; tile[15] = c33;
        const cols = Math.min(NR, nc - q0);
        for (let r = 0; r < rows; r++) {
          const cRow = cOff + (i0 + r) * ldc + jc + q0;
          for (let q = 0; q < cols; q++) {
            const v = tile[r * NR + q]!;
            c[cRow + q] = beta === 0 ? alpha * v : alpha * v + beta * c[cRow + q]!;
          }
        }
      }
    }
  }
}

/** Below this many rows or columns the padded 4 x 4 tiles would waste most of their work. */
function tiles(m: number, n: number): boolean {
  return m >= MR && n >= NR;
}

/**
 * C[cOff..] = alpha * op(A) op(B) + beta * C for one matrix, arguments already
 * validated. `acc` holds at least n entries and `arow` at least k.
 */
function gemmOne(
  transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, beta: number,
  a: FloatArray, aOff: number, lda: number, b: FloatArray, bOff: number, ldb: number,
  c: FloatArray, cOff: number, ldc: number, acc: Float64Array, arow: Float64Array,
): void {
  for (let i = 0; i < m; i++) {
    // Row i of op(A): read in place, or gathered from column i when transposed.
    let rowSrc: FloatArray | Float64Array = a;
    let rowOff = aOff + i * lda;
    if (transA) {
      for (let p = 0; p < k; p++) arow[p] = a[aOff + p * lda + i]!;
      rowSrc = arow;
      rowOff = 0;
    }
    if (!transB) {
      // acc = sum_p A[i, p] * B[p, :], streaming rows of B.
      acc.fill(0, 0, n);
      for (let p = 0; p < k; p++) {
        const aip = rowSrc[rowOff + p]!;
        const bRow = bOff + p * ldb;
        for (let j = 0; j < n; j++) acc[j]! += aip * b[bRow + j]!;
      }
    } else {
      // B stored n x k: each entry is a dot product of two contiguous rows.
      for (let j = 0; j < n; j++) {
        const bRow = bOff + j * ldb;
        let sum = 0;
        for (let p = 0; p < k; p++) sum += rowSrc[rowOff + p]! * b[bRow + p]!;
        acc[j] = sum;
      }
    }
    const cRow = cOff + i * ldc;
    if (beta === 0) {
      for (let j = 0; j < n; j++) c[cRow + j] = alpha * acc[j]!;
    } else {
      for (let j = 0; j < n; j++) c[cRow + j] = alpha * acc[j]! + beta * c[cRow + j]!;
    }
  }
}

export const jsGemm: GemmKernels = {
  gemm(args: GemmArgs): void {
    const { aOffset, bOffset, cOffset } = validateGemm(args, true);
    const { transA, transB, m, n, k, alpha, beta, a, lda, b, ldb, c, ldc } = args;
    if (tiles(m, n)) gemmTiled(transA, transB, m, n, k, alpha, beta, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc);
    else gemmOne(transA, transB, m, n, k, alpha, beta, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc,
      new Float64Array(n), new Float64Array(transA ? k : 0));
  },

  gemmBatched(args: BatchedGemmArgs): void {
    const { aOffset, bOffset, cOffset } = validateGemmBatched(args, true);
    const { transA, transB, m, n, k, alpha, beta, a, lda, b, ldb, c, ldc } = args;
    const acc = new Float64Array(n);
    const arow = new Float64Array(transA ? k : 0);
    for (let io = 0; io < args.batchOuter; io++) {
      for (let ii = 0; ii < args.batchInner; ii++) {
        const aAt = aOffset + io * args.strideAOuter + ii * args.strideAInner;
        const bAt = bOffset + io * args.strideBOuter + ii * args.strideBInner;
        const cAt = cOffset + io * args.strideCOuter + ii * args.strideCInner;
        if (tiles(m, n)) gemmTiled(transA, transB, m, n, k, alpha, beta, a, aAt, lda, b, bAt, ldb, c, cAt, ldc);
        else gemmOne(transA, transB, m, n, k, alpha, beta, a, aAt, lda, b, bAt, ldb, c, cAt, ldc, acc, arow);
      }
    }
  },

  // One sequence at a time: its heads' scores, their softmax, then their contexts.
  attentionContext(args: AttentionContextArgs): void {
    validateAttentionContext(args);
    const { heads: nh, seqLen: S, headDim: dh, qkv, context, mask } = args;
    const H = nh * dh;
    const W = 3 * H;
    const scores = new Float32Array(nh * S * S);
    for (let b = 0; b < args.batch; b++) {
      jsGemm.gemmBatched({
        batchOuter: 1, batchInner: nh, transA: false, transB: true, m: S, n: S, k: dh, alpha: 1, beta: 0,
        a: qkv, aOffset: b * S * W, lda: W, strideAOuter: 0, strideAInner: dh,
        b: qkv, bOffset: b * S * W + H, ldb: W, strideBOuter: 0, strideBInner: dh,
        c: scores, ldc: S, strideCOuter: 0, strideCInner: S * S,
      });
      jsElementwise.softmax(scores, scores, nh * S, S, args.scale, mask ? mask.subarray(b * S, (b + 1) * S) : null, nh * S);
      jsGemm.gemmBatched({
        batchOuter: 1, batchInner: nh, transA: false, transB: false, m: S, n: dh, k: S, alpha: 1, beta: 0,
        a: scores, lda: S, strideAOuter: 0, strideAInner: S * S,
        b: qkv, bOffset: b * S * W + 2 * H, ldb: W, strideBOuter: 0, strideBInner: dh,
        c: context, cOffset: b * S * H, ldc: H, strideCOuter: 0, strideCInner: dh,
      });
    }
  },
};
