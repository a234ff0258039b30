// An inference model whose activation buffers grow with the inputs: rebuilt at a larger batch or
// sequence length when one does not fit, keeping the same parameter arena (no copy, no reload).
import type { ParameterSet } from '../nn/params.js';
import type { InferenceShape } from './discriminator.js';

export class GrowingModel<M extends { params: ParameterSet }> {
  private current: M;
  private batch: number;
  private seqLen: number;

  /** `build` makes the model at a shape; `maxPositions` caps the sequence length (max_position_embeddings). */
  constructor(private readonly build: (shape: InferenceShape) => M, initial: { maxBatch: number; maxSeqLen: number }, readonly maxPositions: number) {
    this.batch = Math.max(1, initial.maxBatch);
    this.seqLen = Math.max(1, Math.min(initial.maxSeqLen, maxPositions));
    this.current = build({ maxBatch: this.batch, maxSeqLen: this.seqLen });
  }

  /** The model as built so far (its parameters are the ones every later build shares). */
  get model(): M {
    return this.current;
  }

  get shape(): { maxBatch: number; maxSeqLen: number } {
    return { maxBatch: this.batch, maxSeqLen: this.seqLen };
  }

  /** The model with buffers for at least batch x seqLen (seqLen at most maxPositions). */
  fit(batch: number, seqLen: number): M {
    if (seqLen > this.maxPositions) throw new RangeError(`seqLen ${seqLen} > max_position_embeddings ${this.maxPositions}`);
    if (batch <= this.batch && seqLen <= this.seqLen) return this.current;
    // Lengths grow by powers of two (capped) so a stream of growing inputs rebuilds only a few times.
    let grownLen = this.seqLen;
    while (grownLen < seqLen) grownLen *= 2;
    this.seqLen = Math.min(grownLen, this.maxPositions);
    this.batch = Math.max(this.batch, batch);
    this.current = this.build({ maxBatch: this.batch, maxSeqLen: this.seqLen, shareParams: this.current.params });
    return this.current;
  }
}
