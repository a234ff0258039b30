// Backend selection: ELECTRA_BACKEND=js|native; native is the default where it built.
import type { Kernels } from './types.js';
import { jsKernels } from './js/index.js';
import { createNativeKernels, loadAddon } from './native/index.js';

export type {
  Kernels, GemmArgs, BatchedGemmArgs, AdamWOptions, GemmKernels, ElementwiseKernels, Bf16Kernels, PackedBf16, PackedGemmArgs,
  Int8Kernels, PackedInt8, Int8GemmArgs,
} from './types.js';
export { quantizeWeightsInt8 } from './int8.js';
export { jsKernels };
export { withPrecision, PRECISIONS, type Precision } from './precision.js';

let selected: Kernels | undefined;
let native: Kernels | null | undefined;

/** The native backend, or null when the addon is not available. */
export function nativeKernels(): Kernels | null {
  if (native === undefined) {
    const { addon } = loadAddon();
    native = addon ? createNativeKernels(addon) : null;
  }
  return native;
}

/** Why the native backend is unavailable, or null when it loaded. */
export function nativeLoadError(): string | null {
  return loadAddon().error;
}

/** The backend chosen by ELECTRA_BACKEND (default: native when built, else js). */
export function kernels(): Kernels {
  if (selected) return selected;
  const wanted = (process.env.ELECTRA_BACKEND ?? '').trim().toLowerCase();
  if (wanted !== '' && wanted !== 'js' && wanted !== 'native') {
    throw new Error(`ELECTRA_BACKEND must be 'js' or 'native', got '${process.env.ELECTRA_BACKEND}'`);
  }
  if (wanted === 'js') {
    selected = jsKernels;
    return selected;
  }
  const nk = nativeKernels();
  if (nk) {
    selected = nk;
  } else if (wanted === 'native' || process.env.ELECTRA_REQUIRE_NATIVE) {
    throw new Error(`the native backend was requested but could not be loaded: ${nativeLoadError()}`);
  } else {
    process.stderr.write(`electra-ts: native addon unavailable (${nativeLoadError()}); using the JS backend\n`);
    selected = jsKernels;
  }
  return selected;
}
