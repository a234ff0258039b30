// The native elementwise kernels: thin pass-throughs to the addon, which checks
// its arguments and throws errors naming the kernel and argument.
import type { CausalMode, ElementwiseKernels } from '../types.js';
import type { NativeAddonBase } from './addon.js';

type F32 = Float32Array;

const CAUSAL_CODE: Record<CausalMode, number> = { none: 0, ltr: 1, rtl: -1 };

function causalCode(causal: CausalMode): number {
  const code = CAUSAL_CODE[causal];
  if (code === undefined) throw new TypeError(`softmax: causal must be 'none', 'ltr' or 'rtl', got ${String(causal)}`);
  return code;
}

/** Elementwise entry points exported by native/elementwise.cc. */
export interface NativeElementwiseAddon extends NativeAddonBase {
  biasAdd(x: F32, bias: F32, y: F32, rows: number, cols: number): void;
  biasBackward(dy: F32, dbias: F32, rows: number, cols: number): void;
  gelu(x: F32, y: F32, n: number): void;
  geluBackward(x: F32, dy: F32, dx: F32, n: number): void;
  geluBf16(x: F32, y: Uint16Array, n: number): void;
  biasBackwardBf16(dy: F32, dbias: F32, rows: number, cols: number, dyBf16: Uint16Array): void;
  biasAddBf16(x: F32, bias: F32, out: Uint16Array, rows: number, cols: number): void;
  geluBackwardBiasBf16(x: F32, dy: F32, dbias: F32, rows: number, cols: number, dyBf16: Uint16Array): void;
  biasGeluBf16(x: F32, bias: F32, y: F32, out: Uint16Array, rows: number, cols: number): void;
  softmaxBackwardBf16(y: F32, dy: F32, dx: Uint16Array, rows: number, cols: number, scale: number): void;
  dropoutBf16(x: F32, y: Uint16Array, n: number, p: number, seed: number, counterOffset: number): void;
  gumbelCandidates(
    logits: F32, rows: number, cols: number, invTemperature: number, seed: number, rowOffset: number,
    disallow: Int32Array | null, argmax: Int32Array, counts: Int32Array, columns: Int32Array, numerators: Int32Array, capacity: number,
  ): void;
  layerNorm(x: F32, gamma: F32, beta: F32, y: F32, mean: F32, rstd: F32, rows: number, cols: number, eps: number): void;
  layerNormBackward(
    dy: F32, x: F32, gamma: F32, mean: F32, rstd: F32, dx: F32, dgamma: F32, dbeta: F32, rows: number, cols: number,
  ): void;
  /** causal: 0 none, 1 left-to-right, -1 right-to-left. */
  softmax(x: F32, y: F32, rows: number, cols: number, scale: number, mask: F32 | null, rowsPerMask: number, causal: number): void;
  softmaxBackward(y: F32, dy: F32, dx: F32, rows: number, cols: number, scale: number): void;
  dropout(x: F32, y: F32, n: number, p: number, seed: number, counterOffset: number): void;
  dropoutBackward(dy: F32, dx: F32, n: number, p: number, seed: number, counterOffset: number): void;
  add(a: F32, b: F32, out: F32, n: number): void;
  axpy(alpha: number, x: F32, y: F32, n: number): void;
  scale(x: F32, alpha: number, n: number): void;
  embeddingGather(table: F32, ids: Int32Array, out: F32, count: number, dim: number): void;
  embeddingScatterAdd(dOut: F32, ids: Int32Array, dTable: F32, count: number, dim: number): void;
  softmaxCrossEntropy(
    logits: F32, labels: Int32Array, weights: F32 | null, dlogits: F32 | null, rows: number, cols: number, gradScale: number,
  ): number;
  sigmoidCrossEntropy(
    logits: F32, labels: F32, weights: F32 | null, dlogits: F32 | null, n: number, gradScale: number,
  ): number;
  adamw(
    params: F32, grads: F32, m: F32, v: F32, n: number, lr: number, beta1: number, beta2: number, eps: number,
    weightDecay: number, biasCorrection: boolean, step: number, decayMask: Uint8Array | null,
  ): void;
  sumSquares(x: F32, n: number): number;
  clipByGlobalNorm(grads: F32, n: number, maxNorm: number): number;
  /** Multi-threaded memmove of n floats: the bandwidth baseline for benchmarks. */
  copy(src: F32, dst: F32, n: number): void;
}

/** The addon with its elementwise entry points typed. */
export function elementwiseAddon(addon: NativeAddonBase): NativeElementwiseAddon {
  const a = addon as NativeElementwiseAddon;
  if (typeof a.gelu !== 'function') throw new Error('the native addon lacks the elementwise kernels (stale build?)');
  return a;
}

export function nativeElementwise(addon: NativeAddonBase): ElementwiseKernels {
  const a = elementwiseAddon(addon);
  return {
    biasAdd: a.biasAdd,
    biasBackward: a.biasBackward,
    gelu: a.gelu,
    geluBackward: a.geluBackward,
    geluBf16: a.geluBf16,
    biasBackwardBf16: a.biasBackwardBf16,
    biasAddBf16: a.biasAddBf16,
    geluBackwardBiasBf16: a.geluBackwardBiasBf16,
    biasGeluBf16: a.biasGeluBf16,
    softmaxBackwardBf16: a.softmaxBackwardBf16,
    dropoutBf16: a.dropoutBf16,
    gumbelCandidates: a.gumbelCandidates,
    layerNorm: a.layerNorm,
    layerNormBackward: a.layerNormBackward,
    softmax: (x, y, rows, cols, scale, mask, rowsPerMask, causal = 'none') =>
      a.softmax(x, y, rows, cols, scale, mask, rowsPerMask, causalCode(causal)),
    softmaxBackward: a.softmaxBackward,
    dropout: a.dropout,
    dropoutBackward: a.dropoutBackward,
    add: a.add,
    axpy: a.axpy,
    scale: a.scale,
    embeddingGather: a.embeddingGather,
    embeddingScatterAdd: a.embeddingScatterAdd,
    softmaxCrossEntropy: a.softmaxCrossEntropy,
    sigmoidCrossEntropy: a.sigmoidCrossEntropy,
    adamw: (params, grads, m, v, n, o) =>
      a.adamw(params, grads, m, v, n, o.lr, o.beta1, o.beta2, o.eps, o.weightDecay, o.biasCorrection, o.step, o.decayMask),
    sumSquares: a.sumSquares,
    clipByGlobalNorm: a.clipByGlobalNorm,
  };
}
