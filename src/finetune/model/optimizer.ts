// The reference's fine-tuning optimizer (model/optimization.create_optimizer): global-norm
// clipping at 1.0 over all gradients, then AdamWeightDecayOptimizer (no bias correction,
// beta1 0.9, beta2 0.999, eps 1e-6, decoupled weight decay except LayerNorm weights and biases),
// with a learning rate per parameter group for layer-wise decay. Parameters are declared in
// depth order (embeddings, layer 0, ..., heads), so each group is one or a few contiguous
// segments of the arena; the AdamW kernel runs once per segment on views of the arenas.
import type { Kernels } from '../../kernels/index.js';
import type { ParameterSet } from '../../nn/params.js';
import { allocFloats, dtypeOf } from '../../nn/tensor.js';
import { ELECTRA_ADAMW, type AdamWConfig } from '../../optim/adamw.js';

/** A run of the arena whose parameters share a learning-rate scale. */
export interface LrSegment {
  offset: number;
  size: number;
  scale: number;
}

/** Merges consecutive parameters with equal scales into segments. */
export function lrSegments(params: ParameterSet, scaleOf: (name: string) => number): LrSegment[] {
  const segments: LrSegment[] = [];
  const entries = [...params.entries].sort((a, b) => a.offset - b.offset);
  for (const e of entries) {
    const scale = scaleOf(e.name);
    if (!(scale >= 0 && Number.isFinite(scale))) throw new Error(`learning-rate scale of ${e.name} is ${scale}`);
    const last = segments[segments.length - 1];
    if (last && last.scale === scale && last.offset + last.size === e.offset) last.size += e.size;
    else segments.push({ offset: e.offset, size: e.size, scale });
  }
  return segments;
}

export class LayerwiseAdamW {
  readonly m: Float32Array;
  readonly v: Float32Array;
  readonly decayMask: Uint8Array;
  readonly segments: LrSegment[];
  /** Updates applied so far (the reference's global_step). */
  step = 0;

  constructor(
    readonly k: Kernels, readonly params: ParameterSet, scaleOf: (name: string) => number,
    readonly config: AdamWConfig = ELECTRA_ADAMW,
  ) {
    const dtype = dtypeOf(params.params);
    this.m = allocFloats(params.size, dtype);
    this.v = allocFloats(params.size, dtype);
    this.decayMask = params.decayMask();
    this.segments = lrSegments(params, scaleOf);
  }

  /** Clips the gradients, updates every segment at lr * its scale, and returns the pre-clip norm. */
  update(lr: number): number {
    const { k, params, config } = this;
    const n = params.size;
    const norm = config.clipNorm === null
      ? Math.sqrt(k.sumSquares(params.grads, n))
      : k.clipByGlobalNorm(params.grads, n, config.clipNorm);
    const p = params.params;
    const g = params.grads;
    for (const s of this.segments) {
      const end = s.offset + s.size;
      k.adamw(p.subarray(s.offset, end), g.subarray(s.offset, end), this.m.subarray(s.offset, end), this.v.subarray(s.offset, end), s.size, {
        lr: lr * s.scale,
        beta1: config.beta1,
        beta2: config.beta2,
        eps: config.eps,
        weightDecay: config.weightDecayRate,
        biasCorrection: false,
        step: this.step + 1,
        decayMask: this.decayMask.subarray(s.offset, end),
      });
    }
    this.step++;
    return norm;
  }
}
