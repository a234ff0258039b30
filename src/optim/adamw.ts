// The reference's AdamWeightDecayOptimizer over a whole parameter arena:
// global-norm clipping (1.0) of the gradients, then m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2,
// update = m / (sqrt(v) + eps) (no bias correction) + wd * p for decayed parameters, p -= lr * update.
// Fine-tuning gives each parameter a learning-rate scale (layer-wise decay, the reference's
// create_optimizer with layerwise_lr_decay). Parameters are declared in depth order (embeddings,
// layer 0, ..., heads), so equal scales form a few contiguous segments of the arena; the AdamW
// kernel runs once per segment on views of the arenas (once over the whole arena without scales).
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

/** A run of the arena: parameters offset .. offset + size - 1. */
export interface ArenaRun {
  offset: number;
  size: number;
}

/** [from, to) less the frozen runs, as [start, end) pieces. */
function runsOutside(from: number, to: number, frozen: readonly ArenaRun[]): [number, number][] {
  const out: [number, number][] = [];
  let at = from;
  for (const f of frozen) {
    if (f.offset + f.size <= at || f.offset >= to) continue;
    if (f.offset > at) out.push([at, f.offset]);
    at = f.offset + f.size;
  }
  if (at < to) out.push([at, to]);
  return out;
}

export class AdamW {
  readonly m: Float32Array;
  readonly v: Float32Array;
  readonly decayMask: Uint8Array;
  /** Runs of the arena and their learning-rate scales (one of scale 1 without scaleOf). */
  readonly segments: LrSegment[];
  /** Updates applied so far (the reference's global_step). */
  step = 0;

  /** scaleOf: each parameter's learning-rate scale by name (default 1 for all). */
  constructor(
    readonly k: Kernels, readonly params: ParameterSet, readonly config: AdamWConfig = ELECTRA_ADAMW, scaleOf?: (name: string) => number,
  ) {
    const dtype = dtypeOf(params.params);
    this.m = allocFloats(params.size, dtype);
    this.v = allocFloats(params.size, dtype);
    this.decayMask = params.decayMask();
    this.segments = scaleOf ? lrSegments(params, scaleOf) : [{ offset: 0, size: params.size, scale: 1 }];
  }

  /**
   * Clips the gradient arena, updates every segment at lr * its scale, and returns the pre-clip
   * gradient norm. `frozen` (sorted, disjoint runs of the arena) are left as they are, moments
   * included: a multi-task run's update for one task's batch leaves the other tasks' heads alone.
   */
  update(lr: number, frozen: readonly ArenaRun[] = []): number {
    const { k, params, config } = this;
    const n = params.size;
    const norm = config.clipNorm === null
      ? Math.sqrt(k.sumSquares(params.grads, n))
      : k.clipByGlobalNorm(params.grads, n, config.clipNorm);
    const p = params.params;
    const g = params.grads;
    for (const s of this.segments) for (const [offset, end] of runsOutside(s.offset, s.offset + s.size, frozen)) {
      k.adamw(p.subarray(offset, end), g.subarray(offset, end), this.m.subarray(offset, end), this.v.subarray(offset, end), end - offset, {
        lr: lr * s.scale,
        beta1: config.beta1,
        beta2: config.beta2,
        eps: config.eps,
        weightDecay: config.weightDecayRate,
        biasCorrection: false,
        step: this.step + 1,
        decayMask: this.decayMask.subarray(offset, end),
      });
    }
    params.valuesChanged();
    this.step++;
    return norm;
  }
}
