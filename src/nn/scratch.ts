// Buffers a transformer stack needs only transiently: recomputed activations and the
// activation gradients of the layer being back-propagated. One instance serves all the
// layers of an encoder (they run one at a time), so they are sized once for the largest batch.
import { allocFloats, type DType } from './tensor.js';

export interface TransformerDims {
  hidden: number;
  heads: number;
  intermediate: number;
  maxBatch: number;
  maxSeqLen: number;
}

export class LayerScratch {
  /** Attention probabilities after dropout (forward, and recomputed in backward). */
  readonly probsDropped: Float32Array;
  readonly dProbs: Float32Array;
  /** Gradient of the fused q | k | v projection output [tokens, 3 * hidden]. */
  readonly dQkv: Float32Array;
  readonly dContext: Float32Array;
  /** Gradient of a dense output before the dropout that follows it. */
  readonly dDense: Float32Array;
  /** Gradient between the attention and feed-forward halves of a layer. */
  readonly dMid: Float32Array;
  /** GELU output of the feed-forward block (forward, and recomputed in backward). */
  readonly geluOut: Float32Array;
  readonly dIntermediate: Float32Array;
  /** Ping-pong buffers for the gradient flowing down the layer stack. */
  readonly dPing: Float32Array;
  readonly dPong: Float32Array;

  /** bf16 forward: the q | k | v projection in fp32 before its rounding (dQkv's memory: backward only). */
  get qkvFp32(): Float32Array {
    return this.dQkv;
  }

  /** bf16 forward: the attention context in fp32 before its rounding (dContext's memory: backward only). */
  get contextFp32(): Float32Array {
    return this.dContext;
  }

  /**
   * bf16 forward: the attention half's output while its layer runs (the layer keeps its bf16
   * copy for backward); dMid's memory, which only backward uses.
   */
  get attentionOutput(): Float32Array {
    return this.dMid;
  }

  private readonly halves = new Map<Float32Array, { low: Uint16Array; high: Uint16Array }>();

  /**
   * bf16: the GELU output as the second feed-forward GEMM reads it (forward, and recomputed in
   * backward): the first half of geluOut's memory, which bf16 leaves unused.
   */
  get geluOutBf16(): Uint16Array {
    return this.halvesOf(this.geluOut).low;
  }

  /**
   * bf16: a Linear's output gradient rounded for its backward GEMMs ([tokens, up to intermediate]
   * values): the second half of geluOut's memory, free beside geluOutBf16.
   */
  get dyBf16(): Uint16Array {
    return this.halvesOf(this.geluOut).high;
  }

  /** bf16: the dropped attention probabilities as the context and dV products read them (probsDropped's first half). */
  get probsDroppedBf16(): Uint16Array {
    return this.halvesOf(this.probsDropped).low;
  }

  /** bf16: the score gradients as the dQ and dK products read them (probsDropped's second half). */
  get dScoresBf16(): Uint16Array {
    return this.halvesOf(this.probsDropped).high;
  }

  /** Two bf16 arrays, each as long as f, in f's memory. */
  private halvesOf(f: Float32Array): { low: Uint16Array; high: Uint16Array } {
    let h = this.halves.get(f);
    if (!h) {
      if (!(f instanceof Float32Array)) throw new Error('bf16 scratch needs float32 buffers');
      h = { low: new Uint16Array(f.buffer, f.byteOffset, f.length), high: new Uint16Array(f.buffer, f.byteOffset + 2 * f.length, f.length) };
      this.halves.set(f, h);
    }
    return h;
  }

  constructor(d: TransformerDims, dtype: DType) {
    const T = d.maxBatch * d.maxSeqLen;
    const probs = d.maxBatch * d.heads * d.maxSeqLen * d.maxSeqLen;
    const th = T * d.hidden;
    this.probsDropped = allocFloats(probs, dtype);
    this.dProbs = allocFloats(probs, dtype);
    this.dQkv = allocFloats(3 * th, dtype);
    this.dContext = allocFloats(th, dtype);
    this.dDense = allocFloats(th, dtype);
    this.dMid = allocFloats(th, dtype);
    this.geluOut = allocFloats(T * d.intermediate, dtype);
    this.dIntermediate = allocFloats(T * d.intermediate, dtype);
    this.dPing = allocFloats(th, dtype);
    this.dPong = allocFloats(th, dtype);
  }
}
