// Dropout sites. Every place that drops activations gets a fixed site id when the model is
// built; a training step supplies one step seed, and each site derives its own kernel seed
// from (step seed, site id). The kernels regenerate the same mask from that seed in backward.
import type { Kernels } from '../kernels/index.js';
import { mix32 } from '../kernels/rng.js';

/** Hands out distinct site ids across all modules of a model. */
export class DropoutSites {
  private next = 1;
  allocate(): number {
    return this.next++;
  }
}

/** Per-forward dropout settings: p = 0 turns dropout off (inference). */
export interface DropoutContext {
  hiddenProb: number;
  attentionProb: number;
  stepSeed: number;
}

export const NO_DROPOUT: DropoutContext = { hiddenProb: 0, attentionProb: 0, stepSeed: 0 };

export function siteSeed(stepSeed: number, site: number): number {
  return mix32((mix32(stepSeed >>> 0) ^ Math.imul(site, 0x9e3779b1)) >>> 0);
}

/** In-place dropout of x[0, n) at a site (a no-op for p = 0). */
export function dropoutForward(k: Kernels, x: Float32Array, n: number, p: number, stepSeed: number, site: number): void {
  if (p > 0) k.dropout(x, x, n, p, siteSeed(stepSeed, site), 0);
}

/** In-place dropout backward of dx[0, n) at a site. */
export function dropoutBackward(k: Kernels, dx: Float32Array, n: number, p: number, stepSeed: number, site: number): void {
  if (p > 0) k.dropoutBackward(dx, dx, n, p, siteSeed(stepSeed, site), 0);
}
