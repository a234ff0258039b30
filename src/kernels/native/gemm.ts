// GEMM on the native addon: arguments are validated here (clear errors), then
// passed positionally to the C++ entry points, which re-check the bounds.
import type { AttentionContextArgs, BatchedGemmArgs, GemmArgs, GemmKernels } from '../types.js';
import { validateAttentionContext, validateGemm, validateGemmBatched } from '../gemm-args.js';
import { requireEntryPoints, type NativeAddonBase } from './addon.js';

/** The blocking the active instruction set uses. */
export interface GemmConfig {
  isa: string;
  mr: number;
  nr: number;
  kc: number;
  mc: number;
  nc: number;
}

export interface PeakMeasurement {
  /** Sum over all pool threads of the FMA throughput, in GFLOP/s. */
  gflops: number;
  threads: number;
  isa: string;
}

/** The addon entry points defined in native/gemm.cc. */
export interface GemmAddon {
  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, beta: number,
    a: Float32Array, aOffset: number, lda: number, b: Float32Array, bOffset: number, ldb: number,
    c: Float32Array, cOffset: number, ldc: number,
  ): void;
  gemmBatched(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, beta: number,
    a: Float32Array, aOffset: number, lda: number, b: Float32Array, bOffset: number, ldb: number,
    c: Float32Array, cOffset: number, ldc: number,
    batchOuter: number, batchInner: number, strideAOuter: number, strideAInner: number,
    strideBOuter: number, strideBInner: number, strideCOuter: number, strideCInner: number,
  ): void;
  attentionContext(
    batch: number, heads: number, seqLen: number, headDim: number, qkv: Float32Array, context: Float32Array,
    scale: number, mask: Float32Array | null,
  ): void;
  /** Runs an FMA loop on every pool thread for `seconds` with the active instruction set. */
  peakGflops(seconds: number): PeakMeasurement;
  gemmConfig(): GemmConfig;
  /**
   * Sets the largest operand block (floats) the parallel driver packs up front
   * to share, returning the previous limit; 0 restores the default. For tests.
   */
  setGemmSharedPackLimit(floats: number): number;
}

/** The addon's GEMM entry points, or an error naming what is missing. */
export function gemmAddon(addon: NativeAddonBase): NativeAddonBase & GemmAddon {
  return requireEntryPoints<GemmAddon>(addon, ['gemm', 'gemmBatched', 'attentionContext', 'peakGflops', 'gemmConfig', 'setGemmSharedPackLimit']);
}

export function nativeGemm(addon: NativeAddonBase): GemmKernels {
  const native = gemmAddon(addon);
  return {
    gemm(args: GemmArgs): void {
      const o = validateGemm(args, false);
      native.gemm(args.transA, args.transB, args.m, args.n, args.k, args.alpha, args.beta,
        args.a, o.aOffset, args.lda, args.b, o.bOffset, args.ldb, args.c, o.cOffset, args.ldc);
    },
    gemmBatched(args: BatchedGemmArgs): void {
      const o = validateGemmBatched(args, false);
      native.gemmBatched(args.transA, args.transB, args.m, args.n, args.k, args.alpha, args.beta,
        args.a, o.aOffset, args.lda, args.b, o.bOffset, args.ldb, args.c, o.cOffset, args.ldc,
        args.batchOuter, args.batchInner, args.strideAOuter, args.strideAInner,
        args.strideBOuter, args.strideBInner, args.strideCOuter, args.strideCInner);
    },
    attentionContext(args: AttentionContextArgs): void {
      validateAttentionContext(args);
      native.attentionContext(args.batch, args.heads, args.seqLen, args.headDim, args.qkv, args.context, args.scale, args.mask);
    },
  };
}
