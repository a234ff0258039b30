// The discriminator alone (HF ElectraForPreTraining) for inference: per-token probabilities
// that a token was replaced, and the hidden states. Parameter names are the HF names.
import type { Kernels } from '../kernels/index.js';
import { DropoutSites, NO_DROPOUT } from '../nn/dropout.js';
import { ParameterSet, Scope } from '../nn/params.js';
import { allocFloats, type DType } from '../nn/tensor.js';
import type { ElectraConfig } from './config.js';
import { declareEmbeddingTables, ElectraModel } from './electra-model.js';
import { DiscriminatorHead } from './heads.js';

/** Activation shape of an inference model; `shareParams`: the parameters of an earlier build (same config). */
export interface InferenceShape {
  maxBatch: number;
  maxSeqLen: number;
  dtype?: DType;
  shareParams?: ParameterSet;
}

export interface DiscriminatorOutput {
  /** sigmoid(logit) per token [batch * seqLen] (view, valid until the next call). */
  probs: Float32Array;
  logits: Float32Array;
  /** Last-layer hidden states [batch * seqLen, hidden] (view). */
  hidden: Float32Array;
}

export class ElectraDiscriminator {
  readonly params = new ParameterSet();
  readonly body: ElectraModel;
  readonly head: DiscriminatorHead;
  private readonly probs: Float32Array;

  constructor(readonly k: Kernels, readonly config: ElectraConfig, shape: InferenceShape) {
    const dtype = shape.dtype ?? 'float32';
    const root = new Scope('electra', 'electra', ['discriminator']);
    const tables = declareEmbeddingTables(k, this.params, root, config);
    this.body = new ElectraModel(k, this.params, root, config, tables, { maxBatch: shape.maxBatch, maxSeqLen: shape.maxSeqLen, dtype }, new DropoutSites());
    this.head = new DiscriminatorHead(k, this.params, new Scope('', '', ['discriminator']), config, shape.maxBatch * shape.maxSeqLen, dtype);
    this.params.allocate(dtype, shape.shareParams);
    this.probs = allocFloats(shape.maxBatch * shape.maxSeqLen, dtype);
  }

  forward(ids: Int32Array, segmentIds: Int32Array, inputMask: Int32Array, batch: number, seqLen: number): DiscriminatorOutput {
    const hidden = this.body.forward(ids, segmentIds, inputMask, batch, seqLen, NO_DROPOUT);
    const T = batch * seqLen;
    const logits = this.head.forward(hidden, T);
    for (let i = 0; i < T; i++) this.probs[i] = 1 / (1 + Math.exp(-logits[i]!));
    return { probs: this.probs.subarray(0, T), logits: logits.subarray(0, T), hidden: hidden.subarray(0, T * this.config.hidden_size) };
  }

  /** HF's hidden_states: the encoder input, then the output of each layer (views, valid until the next forward). */
  allHiddenStates(): Float32Array[] {
    return [this.body.encoderInput(), ...this.body.hiddenStates()];
  }

  /** Hidden states after each encoder layer (views), valid after forward. */
  hiddenStates(): Float32Array[] {
    return this.body.hiddenStates();
  }
}
