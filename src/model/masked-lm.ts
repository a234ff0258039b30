// The generator alone (HF ElectraForMaskedLM) for inference: vocabulary logits at chosen token
// positions (dense -> GELU -> LayerNorm -> tied word embeddings + bias). Parameter names are the HF names.
import type { Kernels } from '../kernels/index.js';
import { DropoutSites, NO_DROPOUT } from '../nn/dropout.js';
import { ParameterSet, Scope } from '../nn/params.js';
import type { ElectraConfig } from './config.js';
import type { InferenceShape } from './discriminator.js';
import { declareEmbeddingTables, ElectraModel } from './electra-model.js';
import { GeneratorHead } from './heads.js';

export class ElectraMaskedLM {
  readonly params = new ParameterSet();
  readonly body: ElectraModel;
  readonly head: GeneratorHead;

  /** The head runs `headRows` positions at a time (its logits buffer is headRows x vocab). */
  constructor(readonly k: Kernels, readonly config: ElectraConfig, shape: InferenceShape & { headRows?: number }) {
    const dtype = shape.dtype ?? 'float32';
    const root = new Scope('electra', 'electra', ['generator']);
    const tables = declareEmbeddingTables(k, this.params, root, config);
    this.body = new ElectraModel(k, this.params, root, config, tables, { maxBatch: shape.maxBatch, maxSeqLen: shape.maxSeqLen, dtype }, new DropoutSites());
    this.head = new GeneratorHead(k, this.params, new Scope('', '', ['generator']), config, tables, shape.headRows ?? 64, dtype);
    this.params.allocate(dtype, shape.shareParams);
  }

  /**
   * Runs the body over [batch, seqLen] inputs and writes the logits at the flat positions
   * (b * seqLen + p) into out [positions.length, vocab].
   */
  forward(ids: Int32Array, segmentIds: Int32Array, inputMask: Int32Array, batch: number, seqLen: number, positions: Int32Array, out: Float32Array): void {
    const V = this.config.vocab_size;
    if (out.length < positions.length * V) throw new RangeError(`out holds ${out.length} logits; ${positions.length} x ${V} needed`);
    const hidden = this.body.forward(ids, segmentIds, inputMask, batch, seqLen, NO_DROPOUT);
    for (let start = 0; start < positions.length; start += this.head.maxRows) {
      const rows = Math.min(this.head.maxRows, positions.length - start);
      const logits = this.head.forward(hidden, positions.subarray(start, start + rows), rows);
      out.set(logits.subarray(0, rows * V), start * V);
    }
  }

  /** HF's hidden_states: the encoder input, then the output of each layer (views, valid until the next forward). */
  allHiddenStates(): Float32Array[] {
    return [this.body.encoderInput(), ...this.body.hiddenStates()];
  }
}
