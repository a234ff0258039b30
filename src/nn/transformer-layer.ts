// One post-LN transformer layer (HF ElectraLayer): attention block, then feed-forward block.
import type { Kernels } from '../kernels/index.js';
import { Attention, type AttentionConfig } from './attention.js';
import type { DropoutContext, DropoutSites } from './dropout.js';
import { FeedForward } from './feed-forward.js';
import type { ParameterSet, Scope } from './params.js';
import type { LayerScratch } from './scratch.js';
import type { DType } from './tensor.js';

export type TransformerLayerConfig = AttentionConfig;

export class TransformerLayer {
  readonly attention: Attention;
  readonly feedForward: FeedForward;

  /** Declares "<scope>.attention.*", "<scope>.intermediate.*" and "<scope>.output.*". */
  constructor(
    k: Kernels, ps: ParameterSet, scope: Scope, cfg: TransformerLayerConfig,
    private readonly scratch: LayerScratch, dtype: DType, sites: DropoutSites,
  ) {
    this.attention = new Attention(k, ps, scope.child('attention'), cfg, scratch, dtype, sites);
    this.feedForward = new FeedForward(k, ps, scope, cfg, scratch, dtype, sites);
  }

  get output(): Float32Array {
    return this.feedForward.output;
  }

  forward(x: Float32Array, batch: number, seqLen: number, maskAdd: Float32Array | null, dropout: DropoutContext): Float32Array {
    const mid = this.attention.forward(x, batch, seqLen, maskAdd, dropout);
    const midBf16 = this.attention.savedOutput instanceof Uint16Array ? this.attention.savedOutput : undefined;
    return this.feedForward.forward(mid, batch * seqLen, dropout, undefined, midBf16);
  }

  /**
   * Forward for sequences [b0, b0 + count) of x [batch*seq, hidden] (inference only: the
   * intermediates keep just the last call's rows), writing those rows of output.
   */
  forwardSequences(x: Float32Array, b0: number, count: number, seqLen: number, maskAdd: Float32Array | null, dropout: DropoutContext): void {
    const H = this.attention.cfg.hidden;
    const row0 = b0 * seqLen;
    const mid = this.attention.forward(x.subarray(row0 * H), count, seqLen, maskAdd?.subarray(b0 * seqLen) ?? null, dropout);
    this.feedForward.forward(mid, count * seqLen, dropout, this.output.subarray(row0 * H));
  }

  /** dx receives the gradient w.r.t. x; must not alias dOutput. */
  backward(x: Float32Array, dOutput: Float32Array, dx: Float32Array): void {
    this.feedForward.backward(this.attention.savedOutput, dOutput, this.scratch.dMid);
    this.attention.backward(x, this.scratch.dMid, dx);
  }
}
