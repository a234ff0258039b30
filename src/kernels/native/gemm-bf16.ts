// bf16 GEMM on the native addon (native/gemm_bf16.cc): validated here, then
// passed positionally; the C++ side re-checks the bounds.
import type { Bf16BatchedGemmArgs, Bf16GemmArgs, Bf16Kernels, PackedGemmArgs } from '../types.js';
import { validateBf16Round, validateGemmBf16, validateGemmBatched, validatePackBf16, validatePackedGemm } from '../gemm-args.js';
import { requireEntryPoints, type NativeAddonBase } from './addon.js';
import type { PeakMeasurement } from './gemm.js';

/** The addon entry points defined in native/gemm_bf16.cc. */
export interface Bf16Addon {
  gemmBf16(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, beta: number,
    a: Float32Array | Uint16Array, aOffset: number, lda: number, b: Float32Array | Uint16Array, bOffset: number, ldb: number,
    c: Float32Array, cOffset: number, ldc: number,
  ): void;
  bf16Round(x: Float32Array, xOffset: number, out: Uint16Array, outOffset: number, n: number): void;
  bf16PackB(transB: boolean, k: number, n: number, b: Float32Array, bOffset: number, ldb: number, out: Uint16Array, outOffset: number): void;
  gemmBf16Packed(
    transA: boolean, m: number, n: number, k: number, alpha: number, beta: number,
    a: Float32Array | Uint16Array, aOffset: number, lda: number, packed: Uint16Array, packedOffset: number,
    c: Float32Array, cOffset: number, ldc: number,
  ): void;
  gemmBatchedBf16(
    transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, beta: number,
    a: Float32Array | Uint16Array, aOffset: number, lda: number, b: Float32Array | Uint16Array, bOffset: number, ldb: number,
    c: Float32Array, cOffset: number, ldc: number, batchOuter: number, batchInner: number,
    strideAOuter: number, strideAInner: number, strideBOuter: number, strideBInner: number, strideCOuter: number, strideCInner: number,
  ): void;
  /** The VDPBF16PS (or emulated) dot-product loop on every pool thread for `seconds`. */
  bf16PeakGflops(seconds: number): PeakMeasurement;
  /**
   * Which bf16 kernel runs: avx512bf16 (VDPBF16PS), avx512-emulated (FMA products, VCVTNE2PS2BF16
   * conversion), avx512f-emulated (FMA, no AVX512_BF16 instruction), avx2-emulated or scalar.
   */
  bf16Isa(): string;
  /**
   * Which kernel runs while AVX-512 is active: 'auto' (the faster of VDPBF16PS and the FMA emulation,
   * measured once per process), 'vdpbf16ps', 'emulated' or 'emulated-avx512f' (as ELECTRA_BF16_KERNEL
   * sets it at start; all give the same bits). Returns bf16Isa() after the change; throws where the
   * CPU cannot run the kernel.
   */
  setBf16Kernel(name: string): string;
  /** The setting setBf16Kernel or ELECTRA_BF16_KERNEL made ('auto' by default). */
  bf16KernelSetting(): string;
}

export function bf16Addon(addon: NativeAddonBase): NativeAddonBase & Bf16Addon {
  return requireEntryPoints<Bf16Addon>(addon, ['gemmBf16', 'bf16PackB', 'gemmBf16Packed', 'gemmBatchedBf16', 'bf16Round', 'bf16PeakGflops', 'bf16Isa',
    'setBf16Kernel', 'bf16KernelSetting']);
}

export function nativeGemmBf16(addon: NativeAddonBase): Bf16Kernels {
  const native = bf16Addon(addon);
  return {
    gemmBf16(args: Bf16GemmArgs): void {
      const o = validateGemmBf16(args);
      native.gemmBf16(args.transA, args.transB, args.m, args.n, args.k, args.alpha, args.beta,
        args.a, o.aOffset, args.lda, args.b, o.bOffset, args.ldb, args.c, o.cOffset, args.ldc);
    },
    bf16Round(x, out, n, xOffset = 0, outOffset = 0) {
      const o = validateBf16Round(x, out, n, xOffset, outOffset);
      native.bf16Round(x, o.x, out, o.out, n);
    },
    packBf16(b, transB, k, n, ldb, bOffset = 0, out) {
      const packed = validatePackBf16(b, transB, k, n, ldb, bOffset, out);
      native.bf16PackB(transB, k, n, b, bOffset, ldb, packed.data, 0);
      return packed;
    },
    gemmBf16Packed(args: PackedGemmArgs): void {
      const o = validatePackedGemm(args);
      native.gemmBf16Packed(args.transA, args.m, args.n, args.k, args.alpha, args.beta,
        args.a, o.aOffset, args.lda, args.b.data, 0, args.c, o.cOffset, args.ldc);
    },
    gemmBatchedBf16(args: Bf16BatchedGemmArgs): void {
      const o = validateGemmBatched(args, false, 'gemmBatchedBf16');
      native.gemmBatchedBf16(args.transA, args.transB, args.m, args.n, args.k, args.alpha, args.beta,
        args.a, o.aOffset, args.lda, args.b, o.bOffset, args.ldb, args.c, o.cOffset, args.ldc,
        args.batchOuter, args.batchInner, args.strideAOuter, args.strideAInner,
        args.strideBOuter, args.strideBInner, args.strideCOuter, args.strideCInner);
    },
  };
}
