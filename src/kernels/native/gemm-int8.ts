// int8 GEMM on the native addon (native/gemm_int8.cc): validated here, then
// passed positionally; the C++ side re-checks the bounds.
import type { Int8GemmArgs, Int8Kernels } from '../types.js';
import { validateInt8Gemm } from '../gemm-args.js';
import { requireEntryPoints, type NativeAddonBase } from './addon.js';

/** The addon entry points defined in native/gemm_int8.cc. */
export interface Int8Addon {
  gemmInt8(
    m: number, n: number, k: number, a: Float32Array, aOffset: number, lda: number,
    weights: Int8Array, weightScale: Float32Array, weightSum: Int32Array, bias: Float32Array | null,
    c: Float32Array, cOffset: number, ldc: number, residual: Float32Array | null, gelu: boolean,
    lnGamma: Float32Array | null, lnBeta: Float32Array | null, lnOut: Float32Array | null,
    lnMean: Float32Array | null, lnRstd: Float32Array | null, lnEps: number,
  ): void;
  /** The u8 x s8 dot-product loop on every pool thread for `seconds`: integer GOP/s (2 per product). */
  int8PeakGops(seconds: number): { gops: number; threads: number; isa: string };
  /** Which int8 kernel runs for depths that are a multiple of 64: avx512amx, avx512vnni, avx2 or scalar. */
  int8Isa(): string;
  /** Turns AMX on or off (default on; ELECTRA_AMX=0 starts it off); returns whether AMX now runs. */
  setInt8Amx(enabled: boolean): boolean;
}

export function int8Addon(addon: NativeAddonBase): NativeAddonBase & Int8Addon {
  return requireEntryPoints<Int8Addon>(addon, ['gemmInt8', 'int8PeakGops', 'int8Isa', 'setInt8Amx']);
}

export function nativeGemmInt8(addon: NativeAddonBase): Int8Kernels {
  const native = int8Addon(addon);
  return {
    gemmInt8(args: Int8GemmArgs): void {
      const o = validateInt8Gemm(args);
      const b = args.b;
      const ln = args.layerNorm;
      native.gemmInt8(args.m, args.n, args.k, args.a, o.aOffset, args.lda, b.data, b.scale, b.colSum, args.bias,
        args.c, o.cOffset, args.ldc, args.residual ?? null, args.gelu ?? false,
        ln?.gamma ?? null, ln?.beta ?? null, ln?.out ?? null, ln?.mean ?? null, ln?.rstd ?? null, ln?.eps ?? 0);
    },
  };
}
