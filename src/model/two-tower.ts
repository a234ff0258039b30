// Electric's generator (run_pretraining.TwoTowerClozeTransformer): a left-to-right and a
// right-to-left transformer over the unmasked input; position i is represented by the
// left-to-right output at i - 1 and the right-to-left output at i + 1 (wrapping at the ends, as
// the reference's roll), concatenated; a cloze head (dense, GELU, LayerNorm, tied output) gives
// logits at every position. See docs/objectives.md.
import type { Kernels } from '../kernels/index.js';
import type { DropoutSites } from '../nn/dropout.js';
import type { EmbeddingTables } from '../nn/embeddings.js';
import { type ParameterSet, Scope } from '../nn/params.js';
import { allocFloats, type DType } from '../nn/tensor.js';
import type { ElectraConfig } from './config.js';
import { type BodyShape, declareEmbeddingTables, ElectraModel } from './electra-model.js';
import { GeneratorHead } from './heads.js';

export class TwoTowerClozeGenerator {
  readonly ltr: ElectraModel;
  readonly rtl: ElectraModel;
  readonly head: GeneratorHead;
  /** The output layer's embedding table (the left-to-right tower's). */
  readonly tables: EmbeddingTables;
  private readonly concat: Float32Array;
  private readonly dConcat: Float32Array;
  private readonly dLtr: Float32Array;
  private readonly dRtl: Float32Array;
  private readonly identity: Int32Array;
  private batch = 0;
  private seqLen = 0;

  /**
   * Declares "generator_ltr.electra.*", "generator_rtl.electra.*" and "cloze.cloze_predictions.*"
   * (in no HF model: checkpoints keep them beside the optimizer state). With `sharedTables` null
   * each tower declares its own embeddings (untied_generator_embeddings).
   */
  constructor(
    readonly k: Kernels, ps: ParameterSet, readonly config: ElectraConfig, sharedTables: EmbeddingTables | null,
    shape: BodyShape, sites: DropoutSites,
  ) {
    const { maxBatch, maxSeqLen, dtype } = shape;
    const T = maxBatch * maxSeqLen;
    const H = config.hidden_size;
    const tower = (name: string, causal: 'ltr' | 'rtl'): ElectraModel => {
      const scope = new Scope(`${name}.electra`, 'electra', []);
      const tables = sharedTables ?? declareEmbeddingTables(k, ps, scope, config);
      return new ElectraModel(k, ps, scope, config, tables, { ...shape, causal }, sites);
    };
    this.ltr = tower('generator_ltr', 'ltr');
    this.rtl = tower('generator_rtl', 'rtl');
    this.tables = this.ltr.tables;
    const headConfig = { ...config, hidden_size: 2 * H, embedding_size: this.tables.sizes.embeddingSize };
    this.head = new GeneratorHead(k, ps, new Scope('cloze', '', []), headConfig, this.tables, T, dtype,
      { predictions: 'cloze_predictions', bias: 'cloze_predictions.output_bias' });
    this.concat = allocFloats(T * 2 * H, dtype as DType);
    this.dConcat = allocFloats(T * 2 * H, dtype);
    this.dLtr = allocFloats(T * H, dtype);
    this.dRtl = allocFloats(T * H, dtype);
    this.identity = Int32Array.from({ length: T }, (_, i) => i);
  }

  /** Cloze logits [batch * seqLen, vocab] for the (unmasked) ids. */
  forward(
    ids: Int32Array, segmentIds: Int32Array, inputMask: Int32Array, batch: number, seqLen: number, training: boolean, stepSeed: number,
  ): Float32Array {
    const H = this.config.hidden_size;
    this.batch = batch;
    this.seqLen = seqLen;
    const left = this.ltr.forward(ids, segmentIds, inputMask, batch, seqLen, this.ltr.dropout(training, stepSeed));
    const right = this.rtl.forward(ids, segmentIds, inputMask, batch, seqLen, this.rtl.dropout(training, stepSeed));
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < seqLen; i++) {
        const row = (b * seqLen + i) * 2 * H;
        const before = b * seqLen + (i + seqLen - 1) % seqLen;
        const after = b * seqLen + (i + 1) % seqLen;
        this.concat.set(left.subarray(before * H, before * H + H), row);
        this.concat.set(right.subarray(after * H, after * H + H), row + H);
      }
    }
    return this.head.forward(this.concat, this.identity, batch * seqLen);
  }

  /** dLogits [batch * seqLen, vocab] -> parameter gradients of both towers and the head. */
  backward(dLogits: Float32Array): void {
    const H = this.config.hidden_size;
    const { batch, seqLen } = this;
    const T = batch * seqLen;
    this.head.backward(dLogits, this.dConcat, T);
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < seqLen; i++) {
        const row = (b * seqLen + i) * 2 * H;
        const before = b * seqLen + (i + seqLen - 1) % seqLen;
        const after = b * seqLen + (i + 1) % seqLen;
        this.dLtr.set(this.dConcat.subarray(row, row + H), before * H);
        this.dRtl.set(this.dConcat.subarray(row + H, row + 2 * H), after * H);
      }
    }
    this.ltr.backward(this.dLtr);
    this.rtl.backward(this.dRtl);
  }
}
