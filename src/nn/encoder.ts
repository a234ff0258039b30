// A stack of transformer layers (HF ElectraEncoder: "<scope>.layer.N.*").
import type { Kernels } from '../kernels/index.js';
import type { DropoutContext, DropoutSites } from './dropout.js';
import type { ParameterSet, Scope } from './params.js';
import { LayerScratch } from './scratch.js';
import type { DType } from './tensor.js';
import { TransformerLayer, type TransformerLayerConfig } from './transformer-layer.js';

// Rows per thread in one int8 inference pass of a layer: its intermediates (QKV 3H, scores,
// FFN 4H floats per row) then stay in the core's L2; measured best on ELECTRA-Small.
const INT8_CHUNK_ROWS_PER_THREAD = 128;

export class Encoder {
  readonly layers: TransformerLayer[] = [];
  readonly scratch: LayerScratch;
  private input: Float32Array | null = null;

  constructor(k: Kernels, ps: ParameterSet, scope: Scope, readonly cfg: TransformerLayerConfig, numLayers: number, dtype: DType, sites: DropoutSites) {
    this.scratch = new LayerScratch(cfg, dtype);
    for (let i = 0; i < numLayers; i++) {
      this.layers.push(new TransformerLayer(k, ps, scope.child(`layer.${i}`), cfg, this.scratch, dtype, sites));
    }
  }

  /** x [batch*seq, hidden] (kept unmodified until backward) -> the last layer's output. */
  forward(x: Float32Array, batch: number, seqLen: number, maskAdd: Float32Array | null, dropout: DropoutContext): Float32Array {
    this.input = x;
    let h = x;
    const chunk = this.inferenceChunk(batch, seqLen);
    if (chunk >= batch) {
      for (const layer of this.layers) h = layer.forward(h, batch, seqLen, maskAdd, dropout);
      return h;
    }
    // Layer by layer, a few sequences at a time: each layer's intermediates (QKV, scores, FFN
    // activations) are then reused while in cache instead of streamed through memory.
    for (const layer of this.layers) {
      for (let b0 = 0; b0 < batch; b0 += chunk) layer.forwardSequences(h, b0, Math.min(chunk, batch - b0), seqLen, maskAdd, dropout);
      h = layer.output;
    }
    return h;
  }

  /**
   * Sequences per pass of a layer: the whole batch, except in int8, which runs only forward
   * (inference; backward would need every sequence's intermediates): a few sequences at a time.
   * fp32 inference is compute-bound and measured no faster in passes.
   */
  private inferenceChunk(batch: number, seqLen: number): number {
    const k = this.layers[0]?.attention.k;
    if (k?.precision !== 'int8') return batch;
    return Math.max(1, Math.floor((INT8_CHUNK_ROWS_PER_THREAD * k.threads) / seqLen));
  }

  /** The output of every layer (hidden states after layer i), valid after forward. */
  layerOutputs(): Float32Array[] {
    return this.layers.map((l) => l.output);
  }

  /** dInput receives the gradient w.r.t. the encoder input; dOutput is left unchanged. */
  backward(dOutput: Float32Array, dInput: Float32Array): void {
    const L = this.layers.length;
    if (L === 0) {
      dInput.set(dOutput.subarray(0, dInput.length));
      return;
    }
    let dCur = dOutput;
    for (let i = L - 1; i >= 0; i--) {
      const x = i === 0 ? this.input! : this.layers[i - 1]!.output;
      const dNext = i === 0 ? dInput : (dCur === this.scratch.dPing ? this.scratch.dPong : this.scratch.dPing);
      this.layers[i]!.backward(x, dCur, dNext);
      dCur = dNext;
    }
  }
}
