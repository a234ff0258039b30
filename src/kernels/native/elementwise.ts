import type { ElementwiseKernels } from '../types.js';
import type { NativeAddonBase } from './addon.js';
// Placeholder until the elementwise work lands.
export function nativeElementwise(_addon: NativeAddonBase): ElementwiseKernels {
  return {} as ElementwiseKernels;
}
