// Pre-training heads.
// Generator (HF ElectraForMaskedLM): generator_predictions.dense (H -> E, GELU),
// generator_predictions.LayerNorm, then logits = h W_word^T + generator_lm_head.bias with the
// word-embedding matrix as the (tied) output weight. Computed only at the masked positions.
// Discriminator (HF ElectraForPreTraining): discriminator_predictions.dense (H -> H, GELU),
// then discriminator_predictions.dense_prediction (H -> 1): one logit per token.
import type { Kernels } from '../kernels/index.js';
import type { EmbeddingTables } from '../nn/embeddings.js';
import { LayerNorm } from '../nn/layer-norm.js';
import { Linear } from '../nn/linear.js';
import type { ParameterSet, Scope } from '../nn/params.js';
import { allocFloats, type DType } from '../nn/tensor.js';
import type { ElectraConfig } from './config.js';

export class GeneratorHead {
  readonly dense: Linear;
  readonly layerNorm: LayerNorm;
  /** The tied output layer: weight = word embeddings [V, E], bias = generator_lm_head.bias. */
  readonly output: Linear;
  private readonly gathered: Float32Array;
  private readonly preActivation: Float32Array;
  private readonly activated: Float32Array;
  private readonly normed: Float32Array;
  private readonly mean: Float32Array;
  private readonly rstd: Float32Array;
  /** Logits [rows, vocab] (the pre-training loss overwrites them with their gradient). */
  readonly logits: Float32Array;
  private readonly dNormed: Float32Array;
  private readonly dActivated: Float32Array;
  private readonly dGathered: Float32Array;
  private rows = 0;
  private positions: Int32Array = new Int32Array(0);

  /**
   * Declares "<scope>.generator_predictions.*" and "<scope>.generator_lm_head.bias" (scope = the
   * model's root), or the given names (the two-tower generator's cloze_predictions.*).
   */
  constructor(
    readonly k: Kernels, ps: ParameterSet, scope: Scope, readonly config: ElectraConfig, tables: EmbeddingTables,
    readonly maxRows: number, dtype: DType,
    names: { predictions: string; bias: string } = { predictions: 'generator_predictions', bias: 'generator_lm_head.bias' },
  ) {
    const H = config.hidden_size;
    const E = config.embedding_size;
    const V = config.vocab_size;
    this.dense = Linear.declare(k, ps, scope.child(`${names.predictions}.dense`), H, E,
      { weightInit: { kind: 'truncatedNormal', std: config.initializer_range } });
    this.layerNorm = LayerNorm.declare(k, ps, scope.child(`${names.predictions}.LayerNorm`), E, config.layer_norm_eps);
    const biasScope = scope.child(names.bias);
    const bias = ps.declare(biasScope.name, [V], { kind: 'zeros' }, { hfNames: biasScope.hfNames() });
    this.output = new Linear(k, E, V, tables.word, bias);
    this.gathered = allocFloats(maxRows * H, dtype);
    this.preActivation = allocFloats(maxRows * E, dtype);
    this.activated = allocFloats(maxRows * E, dtype);
    this.normed = allocFloats(maxRows * E, dtype);
    this.mean = allocFloats(maxRows, dtype);
    this.rstd = allocFloats(maxRows, dtype);
    this.logits = allocFloats(maxRows * V, dtype);
    this.dNormed = allocFloats(maxRows * E, dtype);
    this.dActivated = allocFloats(maxRows * E, dtype);
    this.dGathered = allocFloats(maxRows * H, dtype);
  }

  /** Logits for the hidden states at the flat token positions (b * seqLen + p) into `logits`. */
  forward(hidden: Float32Array, positions: Int32Array, rows: number): Float32Array {
    if (rows > this.maxRows) throw new Error(`${rows} predictions > ${this.maxRows} allocated`);
    const { k } = this;
    const H = this.config.hidden_size;
    const E = this.config.embedding_size;
    this.rows = rows;
    this.positions = positions;
    k.embeddingGather(hidden, positions, this.gathered, rows, H);
    this.dense.forward(this.gathered, this.preActivation, rows);
    k.gelu(this.preActivation, this.activated, rows * E);
    this.layerNorm.forward(this.activated, this.normed, this.mean, this.rstd, rows);
    this.output.forward(this.normed, this.logits, rows);
    return this.logits;
  }

  /** dLogits [rows, vocab] -> parameter gradients, and dHidden (zeroed here, then scattered into). */
  backward(dLogits: Float32Array, dHidden: Float32Array, tokens: number): void {
    const { k } = this;
    const H = this.config.hidden_size;
    const E = this.config.embedding_size;
    const rows = this.rows;
    this.output.backward(this.normed, dLogits, this.dNormed, rows);
    this.layerNorm.backward(this.dNormed, this.activated, this.mean, this.rstd, this.dActivated, rows);
    k.geluBackward(this.preActivation, this.dActivated, this.dActivated, rows * E);
    this.dense.backward(this.gathered, this.dActivated, this.dGathered, rows);
    dHidden.fill(0, 0, tokens * H);
    k.embeddingScatterAdd(this.dGathered, this.positions, dHidden, rows, H);
  }
}

export class DiscriminatorHead {
  readonly dense: Linear;
  readonly prediction: Linear;
  private readonly preActivation: Float32Array;
  private readonly activated: Float32Array;
  /** One logit per token. */
  readonly logits: Float32Array;
  private readonly dActivated: Float32Array;
  private rows = 0;
  private hidden: Float32Array | null = null;

  /** Declares "<scope>.discriminator_predictions.{dense,dense_prediction}". */
  constructor(readonly k: Kernels, ps: ParameterSet, scope: Scope, readonly config: ElectraConfig, maxRows: number, dtype: DType) {
    const H = config.hidden_size;
    this.dense = Linear.declare(k, ps, scope.child('discriminator_predictions.dense'), H, H,
      { weightInit: { kind: 'truncatedNormal', std: config.initializer_range } });
    // The reference builds this layer with tf.layers.dense defaults: Glorot-uniform kernel.
    this.prediction = Linear.declare(k, ps, scope.child('discriminator_predictions.dense_prediction'), H, 1,
      { weightInit: { kind: 'glorotUniform' } });
    this.preActivation = allocFloats(maxRows * H, dtype);
    this.activated = allocFloats(maxRows * H, dtype);
    this.logits = allocFloats(maxRows, dtype);
    this.dActivated = allocFloats(maxRows * H, dtype);
  }

  forward(hidden: Float32Array, rows: number): Float32Array {
    const H = this.config.hidden_size;
    this.rows = rows;
    this.hidden = hidden;
    this.dense.forward(hidden, this.preActivation, rows);
    this.k.gelu(this.preActivation, this.activated, rows * H);
    this.prediction.forward(this.activated, this.logits, rows);
    return this.logits;
  }

  /** dLogits [rows] -> parameter gradients and dHidden [rows, hidden] (overwritten). */
  backward(dLogits: Float32Array, dHidden: Float32Array): void {
    const H = this.config.hidden_size;
    const rows = this.rows;
    this.prediction.backward(this.activated, dLogits, this.dActivated, rows);
    this.k.geluBackward(this.preActivation, this.dActivated, this.dActivated, rows * H);
    this.dense.backward(this.hidden!, this.dActivated, dHidden, rows);
  }
}
