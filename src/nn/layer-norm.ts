// LayerNorm over the last dimension with learned weight (gamma) and bias (beta).
import type { Int8LayerNormEpilogue, Kernels } from '../kernels/index.js';
import type { ParameterSet, ParamRef, Scope } from './params.js';

export class LayerNorm {
  constructor(
    readonly k: Kernels,
    readonly dim: number,
    readonly weight: ParamRef,
    readonly bias: ParamRef,
    readonly eps: number,
  ) {}

  /** Declares "<scope>.weight" (ones) and "<scope>.bias" (zeros). */
  static declare(k: Kernels, ps: ParameterSet, scope: Scope, dim: number, eps: number): LayerNorm {
    const w = scope.child('weight');
    const b = scope.child('bias');
    const weight = ps.declare(w.name, [dim], { kind: 'ones' }, { hfNames: w.hfNames() });
    const bias = ps.declare(b.name, [dim], { kind: 'zeros' }, { hfNames: b.hfNames() });
    return new LayerNorm(k, dim, weight, bias, eps);
  }

  /** y = LN(x); saves mean and rstd (one per row) for backward. y may alias x only if x is not needed later. */
  forward(x: Float32Array, y: Float32Array, mean: Float32Array, rstd: Float32Array, rows: number): void {
    this.k.layerNorm(x, this.weight.value, this.bias.value, y, mean, rstd, rows, this.dim, this.eps);
  }

  /** forward as an int8 GEMM's epilogue (the same bits): y = LN(the GEMM's output). */
  int8Epilogue(y: Float32Array, mean: Float32Array, rstd: Float32Array): Int8LayerNormEpilogue {
    return { gamma: this.weight.value, beta: this.bias.value, out: y, mean, rstd, eps: this.eps };
  }

  /** dx overwritten; parameter gradients accumulated. */
  backward(dy: Float32Array, x: Float32Array, mean: Float32Array, rstd: Float32Array, dx: Float32Array, rows: number): void {
    this.k.layerNormBackward(dy, x, this.weight.value, mean, rstd, dx, this.weight.grad, this.bias.grad, rows, this.dim);
  }
}
