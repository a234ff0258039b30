import type { GemmKernels } from '../types.js';
import type { NativeAddonBase } from './addon.js';
// Placeholder until the GEMM work lands.
export function nativeGemm(_addon: NativeAddonBase): GemmKernels {
  return {
    gemm() { throw new Error('gemm: not implemented yet'); },
    gemmBatched() { throw new Error('gemmBatched: not implemented yet'); },
  };
}
