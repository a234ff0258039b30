// Fully connected layer y = x W^T + b with W stored [out, in] (PyTorch / HF layout).
import { quantizeWeightsInt8, type Int8LayerNormEpilogue, type Kernels, type PackedBf16, type PackedInt8 } from '../kernels/index.js';
import type { Init, ParameterSet, ParamRef, Scope } from './params.js';

export interface LinearOptions {
  weightInit?: Init;
  /** false: no bias parameter. */
  bias?: boolean;
}

export class Linear {
  readonly weight: ParamRef;
  readonly bias: ParamRef | null;
  /**
   * bf16 (k.precision): W^T packed for the forward product, remade after each change of the
   * values (an update), so eval passes between updates reuse it. The backward product dy W
   * runs once per update and packs W as it goes (through k.gemm), which keeps a second
   * weight-sized copy out of memory.
   */
  private bf16Forward: { version: number; packed: PackedBf16 } | null = null;
  /** int8 (inference): W quantized per output column, remade when the values change. */
  private int8Weights: { version: number; packed: PackedInt8 } | null = null;

  constructor(
    readonly k: Kernels,
    readonly inFeatures: number,
    readonly outFeatures: number,
    weight: ParamRef,
    bias: ParamRef | null,
  ) {
    if (weight.shape[0] !== outFeatures || weight.shape[1] !== inFeatures) {
      throw new Error(`${weight.name}: shape [${weight.shape.join(', ')}] is not [${outFeatures}, ${inFeatures}]`);
    }
    if (bias && bias.size !== outFeatures) throw new Error(`${bias.name}: size ${bias.size} != ${outFeatures}`);
    this.weight = weight;
    this.bias = bias;
  }

  /** Declares "<scope>.weight" [out, in] and "<scope>.bias" [out] in the set. */
  static declare(
    k: Kernels, ps: ParameterSet, scope: Scope, inFeatures: number, outFeatures: number, opts: LinearOptions = {},
  ): Linear {
    const w = scope.child('weight');
    const weight = ps.declare(w.name, [outFeatures, inFeatures], opts.weightInit ?? { kind: 'truncatedNormal', std: 0.02 },
      { hfNames: w.hfNames() });
    const b = scope.child('bias');
    const bias = opts.bias === false ? null : ps.declare(b.name, [outFeatures], { kind: 'zeros' }, { hfNames: b.hfNames() });
    return new Linear(k, inFeatures, outFeatures, weight, bias);
  }

  /**
   * y[rows, out] = x[rows, in] W^T + b; in bf16, x may be bf16 values already (a Uint16Array
   * from bf16Round: the same product). With int8 (inference) the GEMM's epilogue can go on:
   * y = gelu(y), then y += residual ([rows, out]), then a LayerNorm of y, as the separate gelu, add
   * and layerNorm kernels would.
   */
  forward(
    x: Float32Array | Uint16Array, y: Float32Array, rows: number,
    int8Epilogue?: { gelu?: boolean; residual?: Float32Array; layerNorm?: Int8LayerNormEpilogue },
  ): void {
    const { k, inFeatures: nIn, outFeatures: nOut } = this;
    if (x instanceof Uint16Array && k.precision !== 'bf16') throw new Error(`${this.weight.name}: bf16 inputs need precision bf16`);
    if (k.precision === 'int8') {
      // Dynamic quantization: the bias is added in the GEMM's epilogue.
      k.gemmInt8({
        m: rows, n: nOut, k: nIn, a: x as Float32Array, lda: nIn, b: this.quantizedWeights(), bias: this.bias?.value ?? null, c: y, ldc: nOut,
        gelu: int8Epilogue?.gelu ?? false, residual: int8Epilogue?.residual ?? null, layerNorm: int8Epilogue?.layerNorm ?? null,
      });
      return;
    }
    if (int8Epilogue) throw new Error(`${this.weight.name}: the fused GELU / residual epilogue is for int8 inference only`);
    if (k.precision === 'bf16') {
      k.gemmBf16Packed({
        transA: false, m: rows, n: nOut, k: nIn, alpha: 1, beta: 0, a: x, lda: nIn, b: this.bf16Weights(), c: y, ldc: nOut,
      });
    } else {
      k.gemm({
        transA: false, transB: true, m: rows, n: nOut, k: nIn, alpha: 1, beta: 0,
        a: x as Float32Array, lda: nIn, b: this.weight.value, ldb: nIn, c: y, ldc: nOut,
      });
    }
    if (this.bias) k.biasAdd(y, this.bias.value, y, rows, nOut);
  }

  /**
   * bf16: y = x W^T + b as forward computes it, and out = y (gelu false) or gelu(y) (gelu true)
   * rounded to bf16, in the pass that adds the bias (for an output that feeds bf16 GEMMs). With
   * gelu false y is only the GEMM's scratch: it does not receive the bias.
   */
  forwardBf16(x: Float32Array | Uint16Array, y: Float32Array, rows: number, out: Uint16Array, gelu: boolean): void {
    const { k, inFeatures: nIn, outFeatures: nOut } = this;
    if (k.precision !== 'bf16') throw new Error(`${this.weight.name}: forwardBf16 needs precision bf16`);
    k.gemmBf16Packed({
      transA: false, m: rows, n: nOut, k: nIn, alpha: 1, beta: 0, a: x, lda: nIn, b: this.bf16Weights(), c: y, ldc: nOut,
    });
    const bias = this.bias?.value;
    if (gelu) {
      if (bias) k.biasGeluBf16(y, bias, y, out, rows, nOut);
      else k.geluBf16(y, out, rows * nOut);
    } else if (bias) {
      k.biasAddBf16(y, bias, out, rows, nOut);
    } else {
      k.bf16Round(y, out, rows * nOut);
    }
  }

  /**
   * Accumulates dW += dy^T x and db += colsum(dy); when dx is given, dx = dy W
   * (or dx += dy W with accumulateDx, for residual branches). x as forward took it (bf16 values too).
   * dyBf16 (bf16, with a bias): scratch where the bias pass rounds dy for both GEMMs (the
   * rounding they would do themselves: the same results, dy read once in fp32); unused when
   * shorter than rows x out.
   */
  backward(
    x: Float32Array | Uint16Array, dy: Float32Array, dx: Float32Array | null, rows: number, accumulateDx = false,
    dyBf16?: Uint16Array,
  ): void {
    const { k, outFeatures: nOut } = this;
    if (k.precision === 'int8') throw new Error(`${this.weight.name}: int8 quantization is for inference; there is no backward pass`);
    if (this.bias && dyBf16 && dyBf16.length >= rows * nOut && k.precision === 'bf16') {
      k.biasBackwardBf16(dy, this.bias.grad, rows, nOut, dyBf16);
      this.backwardProducts(x, dyBf16, dx, rows, accumulateDx);
      return;
    }
    if (this.bias) k.biasBackward(dy, this.bias.grad, rows, nOut);
    this.backwardProducts(x, dy, dx, rows, accumulateDx);
  }

  /**
   * bf16: backward from dy already rounded to bf16 by a pass that also accumulated the bias
   * gradient (geluBackwardBiasBf16): dW += dy^T x and dx (+)= dy W only.
   */
  backwardRounded(x: Float32Array | Uint16Array, dyBf16: Uint16Array, dx: Float32Array | null, rows: number, accumulateDx = false): void {
    if (this.k.precision !== 'bf16') throw new Error(`${this.weight.name}: backwardRounded needs precision bf16`);
    this.backwardProducts(x, dyBf16, dx, rows, accumulateDx);
  }

  /** The weight-gradient and input-gradient products of backward. */
  private backwardProducts(
    x: Float32Array | Uint16Array, dy: Float32Array | Uint16Array, dx: Float32Array | null, rows: number, accumulateDx: boolean,
  ): void {
    const { k, inFeatures: nIn, outFeatures: nOut } = this;
    const dW = { transA: true, transB: false, m: nOut, n: nIn, k: rows, alpha: 1, beta: 1, lda: nOut, ldb: nIn, c: this.weight.grad, ldc: nIn };
    if (x instanceof Uint16Array || dy instanceof Uint16Array) k.gemmBf16({ ...dW, a: dy, b: x });
    else k.gemm({ ...dW, a: dy, b: x });
    if (dx) {
      const dX = {
        transA: false, transB: false, m: rows, n: nIn, k: nOut, alpha: 1, beta: accumulateDx ? 1 : 0,
        lda: nOut, b: this.weight.value, ldb: nIn, c: dx, ldc: nIn,
      };
      if (dy instanceof Uint16Array) k.gemmBf16({ ...dX, a: dy });
      else k.gemm({ ...dX, a: dy });
    }
  }

  private quantizedWeights(): PackedInt8 {
    const version = this.weight.set.valuesVersion;
    if (this.int8Weights?.version !== version) {
      const packed = quantizeWeightsInt8(this.weight.value, this.outFeatures, this.inFeatures, this.inFeatures, this.int8Weights?.packed);
      this.int8Weights = { version, packed };
    }
    return this.int8Weights.packed;
  }

  private bf16Weights(): PackedBf16 {
    const { k, inFeatures: nIn, outFeatures: nOut } = this;
    const version = this.weight.set.valuesVersion;
    if (this.bf16Forward?.version !== version) {
      const packed = k.packBf16(this.weight.value, true, nIn, nOut, nIn, 0, this.bf16Forward?.packed);
      this.bf16Forward = { version, packed };
    }
    return this.bf16Forward.packed;
  }
}
