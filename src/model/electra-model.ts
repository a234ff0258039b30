// The ELECTRA transformer body (HF ElectraModel): embeddings, embeddings_project when the
// embedding size differs from the hidden size, and the encoder. No pooler.
import type { CausalMode, Kernels } from '../kernels/index.js';
import type { DropoutContext, DropoutSites } from '../nn/dropout.js';
import { Embeddings, EmbeddingTables } from '../nn/embeddings.js';
import { Encoder } from '../nn/encoder.js';
import { Linear } from '../nn/linear.js';
import type { ParameterSet, Scope } from '../nn/params.js';
import { allocFloats, type DType } from '../nn/tensor.js';
import type { ElectraConfig } from './config.js';

/** The additive attention mask of the reference: 0 for real tokens, -10000 for padding. */
export const MASKED_SCORE = -10000;

export interface BodyShape {
  maxBatch: number;
  maxSeqLen: number;
  dtype: DType;
  /** Causal self-attention (the two-tower generator's towers); default none. */
  causal?: CausalMode;
}

/** Declares the embedding tables of a config under "<scope>.embeddings" (scope: e.g. "electra"). */
export function declareEmbeddingTables(k: Kernels, ps: ParameterSet, scope: Scope, cfg: ElectraConfig): EmbeddingTables {
  return new EmbeddingTables(k, ps, scope.child('embeddings'), {
    vocabSize: cfg.vocab_size,
    embeddingSize: cfg.embedding_size,
    maxPositions: cfg.max_position_embeddings,
    typeVocabSize: cfg.type_vocab_size,
    layerNormEps: cfg.layer_norm_eps,
    initializerRange: cfg.initializer_range,
  });
}

export class ElectraModel {
  readonly embeddings: Embeddings;
  /** embeddings_project (E -> H), present when embedding_size != hidden_size. */
  readonly project: Linear | null;
  readonly encoder: Encoder;
  private readonly projected: Float32Array | null;
  private readonly maskAdd: Float32Array;
  private readonly dEncoderInput: Float32Array;
  private readonly dEmbeddings: Float32Array | null;
  private tokens = 0;

  /**
   * Declares "<scope>.embeddings_project" and "<scope>.encoder.layer.N.*" and runs over the
   * given embedding tables (shared between models, or declared by declareEmbeddingTables).
   */
  constructor(
    readonly k: Kernels, ps: ParameterSet, scope: Scope, readonly config: ElectraConfig,
    readonly tables: EmbeddingTables, readonly shape: BodyShape, sites: DropoutSites,
  ) {
    const { maxBatch, maxSeqLen, dtype } = shape;
    const T = maxBatch * maxSeqLen;
    const E = config.embedding_size;
    const H = config.hidden_size;
    if (tables.sizes.embeddingSize !== E) throw new Error(`embedding tables are ${tables.sizes.embeddingSize} wide, config says ${E}`);
    if (maxSeqLen > config.max_position_embeddings) throw new Error(`maxSeqLen ${maxSeqLen} > max_position_embeddings`);
    this.embeddings = new Embeddings(k, tables, T, dtype, sites);
    this.project = E === H ? null
      : Linear.declare(k, ps, scope.child('embeddings_project'), E, H, { weightInit: { kind: 'glorotUniform' } });
    this.encoder = new Encoder(k, ps, scope.child('encoder'), {
      hidden: H,
      heads: config.num_attention_heads,
      intermediate: config.intermediate_size,
      maxBatch,
      maxSeqLen,
      layerNormEps: config.layer_norm_eps,
      initializerRange: config.initializer_range,
      causal: shape.causal ?? 'none',
    }, config.num_hidden_layers, dtype, sites);
    this.projected = this.project ? allocFloats(T * H, dtype) : null;
    this.maskAdd = allocFloats(T, dtype);
    this.dEncoderInput = allocFloats(T * H, dtype);
    this.dEmbeddings = this.project ? allocFloats(T * E, dtype) : null;
  }

  /** Dropout probabilities of this config for training, or none for inference. */
  dropout(training: boolean, stepSeed: number): DropoutContext {
    return training
      ? { hiddenProb: this.config.hidden_dropout_prob, attentionProb: this.config.attention_probs_dropout_prob, stepSeed }
      : { hiddenProb: 0, attentionProb: 0, stepSeed };
  }

  /** ids, segment ids, input mask: [batch, seqLen] row-major. Returns the last hidden states [batch*seqLen, hidden]. */
  forward(
    ids: Int32Array, segmentIds: Int32Array, inputMask: Int32Array, batch: number, seqLen: number, dropout: DropoutContext,
  ): Float32Array {
    const T = batch * seqLen;
    if (T > this.maskAdd.length) throw new Error(`batch ${batch} x seqLen ${seqLen} exceeds the allocated ${this.maskAdd.length} tokens`);
    if (seqLen > this.shape.maxSeqLen) throw new Error(`seqLen ${seqLen} > maxSeqLen ${this.shape.maxSeqLen}`);
    this.tokens = T;
    for (let i = 0; i < T; i++) this.maskAdd[i] = inputMask[i] ? 0 : MASKED_SCORE;
    let h = this.embeddings.forward(ids, segmentIds, batch, seqLen, dropout);
    if (this.project) {
      this.project.forward(h, this.projected!, T);
      h = this.projected!;
    }
    return this.encoder.forward(h, batch, seqLen, this.maskAdd, dropout);
  }

  /** The encoder's input (embeddings, projected to the hidden size if needed), valid until the next forward. */
  encoderInput(): Float32Array {
    return this.projected ?? this.embeddings.output;
  }

  /** The hidden states after every encoder layer (views valid until the next forward). */
  hiddenStates(): Float32Array[] {
    return this.encoder.layerOutputs();
  }

  /** Back-propagates dHidden (gradient w.r.t. the last hidden states) into all parameter gradients. */
  backward(dHidden: Float32Array): void {
    const T = this.tokens;
    this.encoder.backward(dHidden, this.dEncoderInput);
    if (this.project) {
      this.project.backward(this.embeddings.output, this.dEncoderInput, this.dEmbeddings!, T);
      this.embeddings.backward(this.dEmbeddings!);
    } else {
      this.embeddings.backward(this.dEncoderInput);
    }
  }
}
