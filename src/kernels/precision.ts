// Reduced-precision compute for a model: a Kernels view whose GEMMs round
// their inputs to bf16 (fp32 sums and outputs; see Bf16Kernels). Everything
// else (LayerNorm, softmax, GELU, losses, reductions, the optimizer) is the
// backend's fp32 code. Attention's batched products (scores, context and their
// gradients) take bf16 inputs too. 'int8' marks a
// view for dynamic-quantization inference: Linear layers use gemmInt8, the rest fp32.
import type { Kernels } from './types.js';

export type Precision = 'fp32' | 'bf16';

export const PRECISIONS: readonly Precision[] = ['fp32', 'bf16'];

/** k itself for fp32; for bf16 a view whose gemm and gemmBatched are gemmBf16's; for int8 a view Linear layers read. */
export function withPrecision(k: Kernels, precision: Precision | 'int8'): Kernels {
  if (precision === 'fp32' || k.precision === precision) return k;
  if (precision === 'int8') return { ...k, precision };
  return { ...k, precision, gemm: (args) => k.gemmBf16(args), gemmBatched: (args) => k.gemmBatchedBf16(args) };
}
