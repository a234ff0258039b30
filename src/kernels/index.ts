// Backend selection: ELECTRA_BACKEND=js|native; native is the default where it built.
import type { Kernels } from './types.js';
import { jsKernels } from './js/index.js';
import { createNativeKernels, loadAddon } from './native/index.js';
import { bf16Addon } from './native/gemm-bf16.js';
import { int8Addon } from './native/gemm-int8.js';

export type {
  Kernels, GemmArgs, BatchedGemmArgs, AdamWOptions, GemmKernels, ElementwiseKernels, CausalMode, Bf16Kernels, Bf16GemmArgs, Bf16BatchedGemmArgs, PackedBf16, PackedGemmArgs,
  Int8Kernels, PackedInt8, Int8GemmArgs, Int8LayerNormEpilogue, AttentionContextArgs,
} from './types.js';
export { CAUSAL_MASKED_SCORE } from './types.js';
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

/** Which compute backend runs, and why (for `electra info` and the fallback warning). */
export interface BackendReport {
  backend: 'native' | 'js';
  isa: string;
  threads: number;
  /** One sentence: why this backend and instruction set. */
  reason: string;
  /** process.arch, e.g. 'x64' or 'arm64'. */
  arch: string;
  /** Why the native addon did not load, when it did not. */
  nativeError?: string;
  /** The bf16 GEMM kernel (`precision: "bf16"`), e.g. avx512bf16; 'js' on the JS backend. */
  bf16Kernel: string;
  /** The int8 GEMM kernel (`quantize: "int8"`) for depths that are a multiple of 64, e.g. avx512amx or avx512vnni; 'js' on the JS backend. */
  int8Kernel: string;
}

/** Describes the backend kernels() returns (selecting it if that has not happened yet). */
export function backendReport(): BackendReport {
  const k = kernels();
  const base = { isa: k.isa, threads: k.threads, arch: process.arch };
  const error = nativeLoadError();
  if (k.name !== 'native') {
    const reason = error === null
      ? 'ELECTRA_BACKEND=js selects the plain TypeScript kernels'
      : 'the native addon could not be loaded, so the plain TypeScript kernels run (slower); reinstall with a C++17 compiler and node-gyp\'s prerequisites to build it';
    return { backend: 'js', ...base, reason, bf16Kernel: 'js', int8Kernel: 'js', ...(error === null ? {} : { nativeError: error }) };
  }
  const info = loadAddon().addon!.info();
  let reason: string;
  if (!info.compiledIsas.includes('avx2')) {
    reason = `native addon with portable C++ kernels: this build has no SIMD kernels for ${process.arch} (AVX2/AVX-512 are x86-64 only)`;
  } else if (info.isa !== info.detectedIsa) {
    reason = `native addon, ${info.isa} kernels: lowered from ${info.detectedIsa} (ELECTRA_ISA)`;
  } else if (info.isa === 'scalar') {
    reason = 'native addon with portable C++ kernels: this CPU lacks AVX2+FMA';
  } else {
    reason = `native addon, ${info.isa} kernels: the best instruction set this CPU supports`;
  }
  const addon = loadAddon().addon!;
  return { backend: 'native', ...base, reason, bf16Kernel: bf16Addon(addon).bf16Isa(), int8Kernel: int8Addon(addon).int8Isa() };
}

/** Whether bf16 GEMMs run on VDPBF16PS here (the probe found it faster than its FMA emulation), so bf16 trains faster than fp32. */
export function bf16RunsNative(k: Kernels): boolean {
  return k.name === 'native' && bf16Addon(loadAddon().addon!).bf16Isa() === 'avx512bf16';
}

/**
 * For `precision: "bf16"`: a note when bf16 products run emulated (widened to fp32, one FMA each), as
 * on the JS backend and on CPUs without VDPBF16PS or where it is slower than FMA; then bf16 saves
 * memory but trains no faster than fp32. Null where VDPBF16PS runs.
 */
export function bf16SpeedNote(k: Kernels): string | null {
  if (bf16RunsNative(k)) return null;
  const kernel = k.name === 'native' ? bf16Addon(loadAddon().addon!).bf16Isa() : 'js';
  return `precision bf16: the bf16 GEMM runs as an fp32 emulation here (${kernel} kernel${kernel === 'avx512-emulated' ? ': VDPBF16PS measured slower than FMA on this CPU' : ''}), ` +
    'so bf16 uses less memory but trains no faster than fp32';
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
    process.stderr.write(
      `electra-ts: using the JS backend (several times slower): the native addon could not be loaded (${nativeLoadError()}); ` +
      'see `electra info`\n',
    );
    selected = jsKernels;
  }
  return selected;
}
