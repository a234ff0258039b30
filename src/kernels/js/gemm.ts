// Plain TypeScript GEMM: the portable fallback and the oracle the native code is
// tested against. Sums are accumulated in float64 (JS numbers, held in a
// Float64Array row), so the same code serves Float64Array inputs in the model's
// float64 gradient checks.
import type { BatchedGemmArgs, GemmArgs, GemmKernels } from '../types.js';
import { validateGemm, validateGemmBatched } from '../gemm-args.js';

/** Float32Array in the model, Float64Array in gradient checks. */
type FloatArray = Float32Array | Float64Array;

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
    gemmOne(transA, transB, m, n, k, alpha, beta, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc,
      new Float64Array(n), new Float64Array(transA ? k : 0));
  },

  gemmBatched(args: BatchedGemmArgs): void {
    const { aOffset, bOffset, cOffset } = validateGemmBatched(args, true);
    const { transA, transB, m, n, k, alpha, beta, a, lda, b, ldb, c, ldc } = args;
    const acc = new Float64Array(n);
    const arow = new Float64Array(transA ? k : 0);
    for (let io = 0; io < args.batchOuter; io++) {
      for (let ii = 0; ii < args.batchInner; ii++) {
        gemmOne(transA, transB, m, n, k, alpha, beta,
          a, aOffset + io * args.strideAOuter + ii * args.strideAInner, lda,
          b, bOffset + io * args.strideBOuter + ii * args.strideBInner, ldb,
          c, cOffset + io * args.strideCOuter + ii * args.strideCInner, ldc, acc, arow);
      }
    }
  },
};
