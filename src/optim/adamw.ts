// The reference's AdamWeightDecayOptimizer over a whole parameter arena:
// global-norm clipping (1.0) of the gradients, then m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2,
// update = m / (sqrt(v) + eps) (no bias correction) + wd * p for decayed parameters, p -= lr * update.
import type { Kernels } from '../kernels/index.js';
import type { ParameterSet } from '../nn/params.js';
import { allocFloats, dtypeOf } from '../nn/tensor.js';

export interface AdamWConfig {
  weightDecayRate: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Global-norm clip threshold; null disables clipping. */
  clipNorm: number | null;
}

export const ELECTRA_ADAMW: AdamWConfig = { weightDecayRate: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-6, clipNorm: 1.0 };

export class AdamW {
  readonly m: Float32Array;
  readonly v: Float32Array;
  readonly decayMask: Uint8Array;
  /** Updates applied so far (the reference's global_step). */
  step = 0;

  constructor(readonly k: Kernels, readonly params: ParameterSet, readonly config: AdamWConfig = ELECTRA_ADAMW) {
    const dtype = dtypeOf(params.params);
    this.m = allocFloats(params.size, dtype);
    this.v = allocFloats(params.size, dtype);
    this.decayMask = params.decayMask();
  }

  /** Clips the gradient arena, applies one update at learning rate lr, and returns the pre-clip gradient norm. */
  update(lr: number): number {
    const { k, params, config } = this;
    const n = params.size;
    const norm = config.clipNorm === null
      ? Math.sqrt(k.sumSquares(params.grads, n))
      : k.clipByGlobalNorm(params.grads, n, config.clipNorm);
    k.adamw(params.params, params.grads, this.m, this.v, n, {
      lr,
      beta1: config.beta1,
      beta2: config.beta2,
      eps: config.eps,
      weightDecay: config.weightDecayRate,
      biasCorrection: false,
      step: this.step + 1,
      decayMask: this.decayMask,
    });
    params.valuesChanged();
    this.step++;
    return norm;
  }
}
