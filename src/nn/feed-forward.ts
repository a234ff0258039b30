// BERT feed-forward block (HF ElectraIntermediate + ElectraOutput): dense(hidden -> intermediate),
// exact GELU, dense(intermediate -> hidden), dropout, residual add, LayerNorm.
// The GELU output is not kept: it is recomputed in backward (saves batch*seq*intermediate floats per layer).
import type { Kernels } from '../kernels/index.js';
import { type DropoutContext, type DropoutSites, siteSeed } from './dropout.js';
import { LayerNorm } from './layer-norm.js';
import { Linear } from './linear.js';
import type { ParameterSet, Scope } from './params.js';
import type { LayerScratch, TransformerDims } from './scratch.js';
import { allocFloats, type DType } from './tensor.js';

export interface FeedForwardConfig extends TransformerDims {
  layerNormEps: number;
  initializerRange: number;
}

export class FeedForward {
  readonly intermediate: Linear;
  readonly outputDense: Linear;
  readonly layerNorm: LayerNorm;
  private readonly outputSite: number;

  /** Intermediate dense output before GELU. */
  private readonly preActivation: Float32Array;
  private readonly preNorm: Float32Array;
  readonly output: Float32Array;
  private readonly mean: Float32Array;
  private readonly rstd: Float32Array;
  private tokens = 0;
  private dropout: DropoutContext | null = null;

  /** Declares "<layerScope>.intermediate.dense" and "<layerScope>.output.{dense,LayerNorm}". */
  constructor(
    readonly k: Kernels, ps: ParameterSet, layerScope: Scope, readonly cfg: FeedForwardConfig,
    private readonly scratch: LayerScratch, dtype: DType, sites: DropoutSites,
  ) {
    const weightInit = { kind: 'truncatedNormal', std: cfg.initializerRange } as const;
    this.intermediate = Linear.declare(k, ps, layerScope.child('intermediate.dense'), cfg.hidden, cfg.intermediate, { weightInit });
    this.outputDense = Linear.declare(k, ps, layerScope.child('output.dense'), cfg.intermediate, cfg.hidden, { weightInit });
    this.layerNorm = LayerNorm.declare(k, ps, layerScope.child('output.LayerNorm'), cfg.hidden, cfg.layerNormEps);
    this.outputSite = sites.allocate();
    const T = cfg.maxBatch * cfg.maxSeqLen;
    this.preActivation = allocFloats(T * cfg.intermediate, dtype);
    this.preNorm = allocFloats(T * cfg.hidden, dtype);
    this.output = allocFloats(T * cfg.hidden, dtype);
    this.mean = allocFloats(T, dtype);
    this.rstd = allocFloats(T, dtype);
  }

  /**
   * Writes the output rows into `out` (default: this.output, which backward reads). xBf16: x's
   * bf16 values where the caller keeps them (bf16), for the intermediate GEMM (the same product).
   */
  forward(x: Float32Array, tokens: number, dropout: DropoutContext, out = this.output, xBf16?: Uint16Array): Float32Array {
    const { k, cfg } = this;
    const n = tokens * cfg.hidden;
    this.tokens = tokens;
    this.dropout = dropout;
    if (k.precision === 'int8' && dropout.hiddenProb === 0) {
      // Inference: GELU, the residual and the LayerNorm run in the int8 GEMMs' epilogues, while
      // the blocks are in cache (preActivation then holds the GELU output; no backward reads it).
      this.intermediate.forward(x, this.preActivation, tokens, { gelu: true });
      this.outputDense.forward(this.preActivation, this.preNorm, tokens, { residual: x, layerNorm: this.layerNorm.int8Epilogue(out, this.mean, this.rstd) });
      return out;
    }
    if (k.precision === 'bf16') {
      // GELU's bf16 values in the pass that adds the intermediate bias.
      this.intermediate.forwardBf16(xBf16 ?? x, this.preActivation, tokens, this.scratch.geluOutBf16, true);
      this.outputDense.forward(this.scratch.geluOutBf16, this.preNorm, tokens);
    } else {
      this.intermediate.forward(x, this.preActivation, tokens);
      this.outputDense.forward(this.activated(tokens), this.preNorm, tokens);
    }
    if (dropout.hiddenProb > 0) {
      k.dropout(this.preNorm, this.preNorm, n, dropout.hiddenProb, siteSeed(dropout.stepSeed, this.outputSite), 0);
    }
    k.add(this.preNorm, x, this.preNorm, n);
    this.layerNorm.forward(this.preNorm, out, this.mean, this.rstd, tokens);
    return out;
  }

  /** Writes dx (gradient w.r.t. the forward input x; in bf16 x may be its bf16 copy) and accumulates parameter gradients. */
  backward(x: Float32Array | Uint16Array, dOutput: Float32Array, dx: Float32Array): void {
    const { k, cfg, scratch: s } = this;
    const T = this.tokens;
    const drop = this.dropout!;
    this.layerNorm.backward(dOutput, this.preNorm, this.mean, this.rstd, dx, T);
    let dDense = dx;
    if (drop.hiddenProb > 0) {
      k.dropoutBackward(dx, s.dDense, T * cfg.hidden, drop.hiddenProb, siteSeed(drop.stepSeed, this.outputSite), 0);
      dDense = s.dDense;
    }
    const dyBf16 = k.precision === 'bf16' ? s.dyBf16 : undefined;
    this.outputDense.backward(this.activated(T), dDense, s.dIntermediate, T, false, dyBf16);
    const bias = this.intermediate.bias;
    if (dyBf16 && bias) {
      // The GELU gradient goes straight to its bias sums and its bf16 values for the two GEMMs.
      k.geluBackwardBiasBf16(this.preActivation, s.dIntermediate, bias.grad, T, cfg.intermediate, dyBf16);
      this.intermediate.backwardRounded(x, dyBf16, dx, T, true);
      return;
    }
    k.geluBackward(this.preActivation, s.dIntermediate, s.dIntermediate, T * cfg.intermediate);
    this.intermediate.backward(x, s.dIntermediate, dx, T, true, dyBf16);
  }

  /** GELU of the kept pre-activation, as the output dense reads it: fp32, or in bf16 its bf16 values only. */
  private activated(tokens: number): Float32Array | Uint16Array {
    const { k, scratch: s } = this;
    const n = tokens * this.cfg.intermediate;
    if (k.precision === 'bf16') {
      k.geluBf16(this.preActivation, s.geluOutBf16, n);
      return s.geluOutBf16;
    }
    k.gelu(this.preActivation, s.geluOut, n);
    return s.geluOut;
  }
}
