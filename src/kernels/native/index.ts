import type { Kernels } from '../types.js';
import { loadAddon, type NativeAddonBase } from './addon.js';
import { nativeGemm } from './gemm.js';
import { nativeElementwise } from './elementwise.js';
import { nativeGemmBf16 } from './gemm-bf16.js';
import { nativeGemmInt8 } from './gemm-int8.js';

/** Wraps the loaded addon in the Kernels interface. */
export function createNativeKernels(addon: NativeAddonBase): Kernels {
  const info = addon.info();
  return {
    name: 'native',
    isa: info.isa,
    threads: info.threads,
    precision: 'fp32',
    ...nativeGemm(addon),
    ...nativeGemmBf16(addon),
    ...nativeGemmInt8(addon),
    ...nativeElementwise(addon),
  };
}

export { loadAddon };
