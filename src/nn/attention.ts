// BERT self-attention block (HF ElectraAttention): query/key/value projections, scaled
// masked softmax over keys, dropout on the probabilities, context, output dense, dropout,
// residual add and LayerNorm (post-LN).
//
// The query, key and value weights (and biases) are declared back to back, so the three
// projections run as one [tokens, hidden] x [3*hidden, hidden]^T GEMM into rows
// [q | k | v] of width 3*hidden. Tensors stay in [batch, seq, heads, headDim] order; the
// two-level batched GEMM addresses head h of sequence b at b*seq*3*hidden + h*headDim (+ hidden
// for k, + 2*hidden for v) with row stride 3*hidden, so no transposes are needed.
// Probabilities are [batch, heads, seq, seq].
import type { BatchedGemmArgs, Bf16BatchedGemmArgs, CausalMode, Kernels } from '../kernels/index.js';
import { type DropoutContext, type DropoutSites, siteSeed } from './dropout.js';
import { LayerNorm } from './layer-norm.js';
import { Linear } from './linear.js';
import type { ParameterSet, ParamRef, Scope } from './params.js';
import type { LayerScratch, TransformerDims } from './scratch.js';
import { allocFloats, type DType } from './tensor.js';

export interface AttentionConfig extends TransformerDims {
  layerNormEps: number;
  initializerRange: number;
  /** Left-to-right or right-to-left attention (the reference's BertModel ltr / rtl); default none. */
  causal?: CausalMode;
}

export class Attention {
  /** query, key and value as one [3H, H] layer. */
  readonly qkv: Linear;
  readonly outputDense: Linear;
  readonly layerNorm: LayerNorm;
  readonly headDim: number;
  private readonly probsSite: number;
  private readonly outputSite: number;

  // Saved activations.
  /** [tokens, 3 * hidden]: q | k | v per row (in bf16 as bf16 values: only the batched products read it). */
  private readonly qkvOut: Float32Array | Uint16Array;
  /** Softmax output before dropout [batch, heads, seq, seq]. */
  readonly probs: Float32Array;
  /**
   * The context (input of the output dense): fp32, or in bf16 its bf16 values only (it feeds
   * nothing but GEMMs, which would round it anyway: half the memory, the same results).
   */
  private readonly context: Float32Array | Uint16Array;
  /** dropout(dense(context)) + input: the LayerNorm input. */
  private readonly preNorm: Float32Array;
  /** In bf16 the scratch's attentionOutput (valid while the layer runs forward), else this layer's own. */
  readonly output: Float32Array;
  /** What backward reads of the output (the feed-forward input): output, or in bf16 its bf16 copy. */
  readonly savedOutput: Float32Array | Uint16Array;
  private readonly mean: Float32Array;
  private readonly rstd: Float32Array;

  private batch = 0;
  private seqLen = 0;
  private dropout: DropoutContext | null = null;

  /** Declares "<scope>.self.{query,key,value}" and "<scope>.output.{dense,LayerNorm}". */
  constructor(
    readonly k: Kernels, ps: ParameterSet, scope: Scope, readonly cfg: AttentionConfig,
    private readonly scratch: LayerScratch, dtype: DType, sites: DropoutSites,
  ) {
    const H = cfg.hidden;
    if (H % cfg.heads !== 0) throw new Error(`hidden size ${H} is not a multiple of ${cfg.heads} heads`);
    this.headDim = H / cfg.heads;
    const weightInit = { kind: 'truncatedNormal', std: cfg.initializerRange } as const;
    const part = (name: string, suffix: 'weight' | 'bias'): ParamRef => {
      const s = scope.child(`self.${name}.${suffix}`);
      return ps.declare(s.name, suffix === 'weight' ? [H, H] : [H], suffix === 'weight' ? weightInit : { kind: 'zeros' },
        { hfNames: s.hfNames() });
    };
    const weights = ['query', 'key', 'value'].map((n) => part(n, 'weight'));
    const biases = ['query', 'key', 'value'].map((n) => part(n, 'bias'));
    this.qkv = new Linear(k, H, 3 * H,
      ps.span(`${scope.name}.self.qkv.weight`, weights, [3 * H, H]), ps.span(`${scope.name}.self.qkv.bias`, biases, [3 * H]));
    this.outputDense = Linear.declare(k, ps, scope.child('output.dense'), H, H, { weightInit });
    this.layerNorm = LayerNorm.declare(k, ps, scope.child('output.LayerNorm'), H, cfg.layerNormEps);
    this.probsSite = sites.allocate();
    this.outputSite = sites.allocate();
    const T = cfg.maxBatch * cfg.maxSeqLen;
    const bf16 = k.precision === 'bf16';
    this.qkvOut = bf16 ? new Uint16Array(T * 3 * H) : allocFloats(T * 3 * H, dtype);
    this.probs = allocFloats(cfg.maxBatch * cfg.heads * cfg.maxSeqLen * cfg.maxSeqLen, dtype);
    this.context = bf16 ? new Uint16Array(T * H) : allocFloats(T * H, dtype);
    this.preNorm = allocFloats(T * H, dtype);
    this.output = bf16 ? scratch.attentionOutput : allocFloats(T * H, dtype);
    this.savedOutput = bf16 ? new Uint16Array(T * H) : this.output;
    this.mean = allocFloats(T, dtype);
    this.rstd = allocFloats(T, dtype);
  }

  /**
   * x [batch*seq, hidden] -> output. maskAdd [batch, seq] is added to the scores of each
   * key position (0 for real tokens, -10000 for padding), or null for no mask. In causal mode a
   * key outside the query's band gets -10000 instead; the softmax backward needs no change (those
   * probabilities are exactly 0).
   */
  forward(x: Float32Array, batch: number, seqLen: number, maskAdd: Float32Array | null, dropout: DropoutContext): Float32Array {
    const { k, cfg, headDim: dh } = this;
    const H = cfg.hidden;
    const nh = cfg.heads;
    const S = seqLen;
    const T = batch * S;
    this.batch = batch;
    this.seqLen = S;
    this.dropout = dropout;
    const W = 3 * H;
    if (this.qkvOut instanceof Uint16Array) {
      this.qkv.forwardBf16(x, this.scratch.qkvFp32, T, this.qkvOut, false);
    } else {
      this.qkv.forward(x, this.qkvOut, T);
    }
    if (k.precision === 'int8' && dropout.attentionProb === 0 && dropout.hiddenProb === 0 && (cfg.causal ?? 'none') === 'none') {
      // Inference: the same products and softmax, per (sequence, head) with its scores kept in cache.
      k.attentionContext({
        batch, heads: nh, seqLen: S, headDim: dh, qkv: this.qkvOut as Float32Array, context: this.context as Float32Array,
        scale: 1 / Math.sqrt(dh), mask: maskAdd,
      });
      // The residual and LayerNorm in the int8 GEMM's epilogue.
      this.outputDense.forward(this.context, this.preNorm, T, { residual: x, layerNorm: this.layerNorm.int8Epilogue(this.output, this.mean, this.rstd) });
      return this.output;
    }
    // scores = Q K^T per (sequence, head); scaled inside the softmax.
    this.batched({
      batchOuter: batch, batchInner: nh,
      transA: false, transB: true, m: S, n: S, k: dh, alpha: 1, beta: 0,
      a: this.qkvOut, aOffset: 0, lda: W, strideAOuter: S * W, strideAInner: dh,
      b: this.qkvOut, bOffset: H, ldb: W, strideBOuter: S * W, strideBInner: dh,
      c: this.probs, ldc: S, strideCOuter: nh * S * S, strideCInner: S * S,
    });
    const rows = batch * nh * S;
    k.softmax(this.probs, this.probs, rows, S, 1 / Math.sqrt(dh), maskAdd, nh * S, cfg.causal ?? 'none');
    const probsUsed = this.droppedProbs(rows * S);
    // context = P V (in bf16 into scratch, then rounded into the kept copy)
    const context = this.context instanceof Uint16Array ? this.scratch.contextFp32 : this.context;
    this.batched({
      batchOuter: batch, batchInner: nh,
      transA: false, transB: false, m: S, n: dh, k: S, alpha: 1, beta: 0,
      a: probsUsed, lda: S, strideAOuter: nh * S * S, strideAInner: S * S,
      b: this.qkvOut, bOffset: 2 * H, ldb: W, strideBOuter: S * W, strideBInner: dh,
      c: context, ldc: H, strideCOuter: S * H, strideCInner: dh,
    });
    if (this.context instanceof Uint16Array) k.bf16Round(context, this.context, T * H);
    if (k.precision === 'int8' && dropout.hiddenProb === 0) {
      this.outputDense.forward(this.context, this.preNorm, T, { residual: x }); // residual in the int8 epilogue
    } else {
      this.outputDense.forward(this.context, this.preNorm, T);
      if (dropout.hiddenProb > 0) {
        k.dropout(this.preNorm, this.preNorm, T * H, dropout.hiddenProb, siteSeed(dropout.stepSeed, this.outputSite), 0);
      }
      k.add(this.preNorm, x, this.preNorm, T * H);
    }
    this.layerNorm.forward(this.preNorm, this.output, this.mean, this.rstd, T);
    if (this.savedOutput instanceof Uint16Array) k.bf16Round(this.output, this.savedOutput, T * H);
    return this.output;
  }

  /** Given dOutput, writes dx (the gradient w.r.t. the forward input x) and accumulates parameter gradients. */
  backward(x: Float32Array, dOutput: Float32Array, dx: Float32Array): void {
    const { k, cfg, headDim: dh, scratch: s } = this;
    const H = cfg.hidden;
    const nh = cfg.heads;
    const S = this.seqLen;
    const batch = this.batch;
    const T = batch * S;
    const W = 3 * H;
    const drop = this.dropout!;
    // The LayerNorm input gradient is both the residual's gradient and the dense output's.
    this.layerNorm.backward(dOutput, this.preNorm, this.mean, this.rstd, dx, T);
    let dDense = dx;
    if (drop.hiddenProb > 0) {
      k.dropoutBackward(dx, s.dDense, T * H, drop.hiddenProb, siteSeed(drop.stepSeed, this.outputSite), 0);
      dDense = s.dDense;
    }
    // In bf16 each dense's output gradient is rounded once, in its bias pass, for both GEMMs.
    const dyBf16 = k.precision === 'bf16' ? s.dyBf16 : undefined;
    this.outputDense.backward(this.context, dDense, s.dContext, T, false, dyBf16);
    const rows = batch * nh * S;
    const probsUsed = this.droppedProbs(rows * S);
    // dV = P^T dContext
    this.batched({
      batchOuter: batch, batchInner: nh,
      transA: true, transB: false, m: S, n: dh, k: S, alpha: 1, beta: 0,
      a: probsUsed, lda: S, strideAOuter: nh * S * S, strideAInner: S * S,
      b: s.dContext, ldb: H, strideBOuter: S * H, strideBInner: dh,
      c: s.dQkv, cOffset: 2 * H, ldc: W, strideCOuter: S * W, strideCInner: dh,
    });
    // dP = dContext V^T
    this.batched({
      batchOuter: batch, batchInner: nh,
      transA: false, transB: true, m: S, n: S, k: dh, alpha: 1, beta: 0,
      a: s.dContext, lda: H, strideAOuter: S * H, strideAInner: dh,
      b: this.qkvOut, bOffset: 2 * H, ldb: W, strideBOuter: S * W, strideBInner: dh,
      c: s.dProbs, ldc: S, strideCOuter: nh * S * S, strideCInner: S * S,
    });
    if (drop.attentionProb > 0) {
      k.dropoutBackward(s.dProbs, s.dProbs, rows * S, drop.attentionProb, siteSeed(drop.stepSeed, this.probsSite), 0);
    }
    // Gradient w.r.t. the raw scores (the softmax's scale included); in bf16 rounded as the products read it.
    let dScores: Float32Array | Uint16Array = s.dProbs;
    if (k.precision === 'bf16') {
      dScores = s.dScoresBf16;
      k.softmaxBackwardBf16(this.probs, s.dProbs, dScores, rows, S, 1 / Math.sqrt(dh));
    } else {
      k.softmaxBackward(this.probs, s.dProbs, s.dProbs, rows, S, 1 / Math.sqrt(dh));
    }
    // dQ = dS K, dK = dS^T Q
    this.batched({
      batchOuter: batch, batchInner: nh,
      transA: false, transB: false, m: S, n: dh, k: S, alpha: 1, beta: 0,
      a: dScores, lda: S, strideAOuter: nh * S * S, strideAInner: S * S,
      b: this.qkvOut, bOffset: H, ldb: W, strideBOuter: S * W, strideBInner: dh,
      c: s.dQkv, cOffset: 0, ldc: W, strideCOuter: S * W, strideCInner: dh,
    });
    this.batched({
      batchOuter: batch, batchInner: nh,
      transA: true, transB: false, m: S, n: dh, k: S, alpha: 1, beta: 0,
      a: dScores, lda: S, strideAOuter: nh * S * S, strideAInner: S * S,
      b: this.qkvOut, bOffset: 0, ldb: W, strideBOuter: S * W, strideBInner: dh,
      c: s.dQkv, cOffset: H, ldc: W, strideCOuter: S * W, strideCInner: dh,
    });
    this.qkv.backward(x, s.dQkv, dx, T, true, dyBf16);
  }

  /** A batched product, on operands that may be bf16 values (then through gemmBatchedBf16: a bf16 view's own). */
  private batched(args: Bf16BatchedGemmArgs): void {
    if (args.a instanceof Uint16Array || args.b instanceof Uint16Array) this.k.gemmBatchedBf16(args);
    else this.k.gemmBatched(args as BatchedGemmArgs);
  }

  /** The probabilities the context was computed from: probs itself, or their dropped copy (in bf16 its bf16 values only). */
  private droppedProbs(n: number): Float32Array | Uint16Array {
    const { k, scratch: s } = this;
    const drop = this.dropout!;
    if (drop.attentionProb <= 0) return this.probs;
    const seed = siteSeed(drop.stepSeed, this.probsSite);
    if (k.precision === 'bf16') {
      k.dropoutBf16(this.probs, s.probsDroppedBf16, n, drop.attentionProb, seed, 0);
      return s.probsDroppedBf16;
    }
    k.dropout(this.probs, s.probsDropped, n, drop.attentionProb, seed, 0);
    return s.probsDropped;
  }
}
