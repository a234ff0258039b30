// Input embeddings: word + position + token type, then LayerNorm and dropout.
// The tables (EmbeddingTables) are parameters that ELECTRA's generator and discriminator
// share; each model runs its own Embeddings instance (own activations) over them, so the
// gradients of both passes accumulate into the same table gradients.
import type { Kernels } from '../kernels/index.js';
import { dropoutBackward, dropoutForward, type DropoutContext, type DropoutSites } from './dropout.js';
import { LayerNorm } from './layer-norm.js';
import type { ParameterSet, ParamRef, Scope } from './params.js';
import { allocFloats, type DType } from './tensor.js';

export interface EmbeddingSizes {
  vocabSize: number;
  embeddingSize: number;
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
  initializerRange: number;
}

export class EmbeddingTables {
  readonly word: ParamRef;
  readonly position: ParamRef;
  readonly tokenType: ParamRef;
  readonly layerNorm: LayerNorm;

  /** Declares "<scope>.{word,position,token_type}_embeddings.weight" and "<scope>.LayerNorm.*". */
  constructor(k: Kernels, ps: ParameterSet, scope: Scope, readonly sizes: EmbeddingSizes) {
    const init = { kind: 'truncatedNormal', std: sizes.initializerRange } as const;
    const table = (name: string, rows: number): ParamRef => {
      const s = scope.child(name);
      return ps.declare(s.name, [rows, sizes.embeddingSize], init, { hfNames: s.hfNames() });
    };
    this.word = table('word_embeddings.weight', sizes.vocabSize);
    this.position = table('position_embeddings.weight', sizes.maxPositions);
    this.tokenType = table('token_type_embeddings.weight', sizes.typeVocabSize);
    this.layerNorm = LayerNorm.declare(k, ps, scope.child('LayerNorm'), sizes.embeddingSize, sizes.layerNormEps);
  }
}

export class Embeddings {
  private readonly site: number;
  /** word + position + type, before LayerNorm. */
  private readonly sum: Float32Array;
  /** LayerNorm output after dropout: the layer's output. */
  readonly output: Float32Array;
  private readonly mean: Float32Array;
  private readonly rstd: Float32Array;
  private readonly dSum: Float32Array;
  private readonly positionIds: Int32Array;
  private positionIdsSeqLen = 0;
  private tokens = 0;
  private ids: Int32Array = new Int32Array(0);
  private segmentIds: Int32Array = new Int32Array(0);
  private dropout: DropoutContext | null = null;

  constructor(readonly k: Kernels, readonly tables: EmbeddingTables, maxTokens: number, dtype: DType, sites: DropoutSites) {
    const E = tables.sizes.embeddingSize;
    this.site = sites.allocate();
    this.sum = allocFloats(maxTokens * E, dtype);
    this.output = allocFloats(maxTokens * E, dtype);
    this.dSum = allocFloats(maxTokens * E, dtype);
    this.mean = allocFloats(maxTokens, dtype);
    this.rstd = allocFloats(maxTokens, dtype);
    this.positionIds = new Int32Array(maxTokens);
  }

  /** Embeds ids [batch, seqLen] (row-major) with their segment ids into `output`. */
  forward(ids: Int32Array, segmentIds: Int32Array, batch: number, seqLen: number, dropout: DropoutContext): Float32Array {
    const { k, tables } = this;
    const E = tables.sizes.embeddingSize;
    const T = batch * seqLen;
    if (seqLen > tables.sizes.maxPositions) throw new Error(`sequence length ${seqLen} > max positions ${tables.sizes.maxPositions}`);
    if (T > this.mean.length) throw new Error(`batch x seqLen ${T} exceeds the ${this.mean.length} tokens allocated`);
    if (this.positionIdsSeqLen !== seqLen) {
      for (let i = 0; i < this.positionIds.length; i++) this.positionIds[i] = i % seqLen;
      this.positionIdsSeqLen = seqLen;
    }
    this.tokens = T;
    this.ids = ids;
    this.segmentIds = segmentIds;
    this.dropout = dropout;
    const n = T * E;
    k.embeddingGather(tables.word.value, ids, this.sum, T, E);
    k.embeddingGather(tables.position.value, this.positionIds, this.output, T, E);
    k.add(this.sum, this.output, this.sum, n);
    k.embeddingGather(tables.tokenType.value, segmentIds, this.output, T, E);
    k.add(this.sum, this.output, this.sum, n);
    tables.layerNorm.forward(this.sum, this.output, this.mean, this.rstd, T);
    dropoutForward(k, this.output, n, dropout.hiddenProb, dropout.stepSeed, this.site);
    return this.output;
  }

  /** Accumulates the table gradients from dOutput (consumed: overwritten in place). */
  backward(dOutput: Float32Array): void {
    const { k, tables } = this;
    const E = tables.sizes.embeddingSize;
    const T = this.tokens;
    const drop = this.dropout!;
    dropoutBackward(k, dOutput, T * E, drop.hiddenProb, drop.stepSeed, this.site);
    tables.layerNorm.backward(dOutput, this.sum, this.mean, this.rstd, this.dSum, T);
    k.embeddingScatterAdd(this.dSum, this.ids, tables.word.grad, T, E);
    k.embeddingScatterAdd(this.dSum, this.positionIds, tables.position.grad, T, E);
    k.embeddingScatterAdd(this.dSum, this.segmentIds, tables.tokenType.grad, T, E);
  }
}
