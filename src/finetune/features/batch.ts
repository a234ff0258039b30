// Model inputs for a batch of features: [batch, seqLen] row-major Int32Arrays, zero-padded as the
// reference pads (id 0 = [PAD], mask 0, segment 0).

/** What every featurised window has: token ids and segment ids, without padding. */
export interface EncodedInput {
  inputIds: readonly number[];
  segmentIds: readonly number[];
}

export interface InputBatch {
  batchSize: number;
  seqLength: number;
  inputIds: Int32Array;
  inputMask: Int32Array;
  segmentIds: Int32Array;
}

/**
 * Pads features to `seqLength` (default: the longest in the batch, which spares the CPU the
 * reference's fixed max_seq_length padding without changing any real token's output).
 */
export function padBatch(features: readonly EncodedInput[], seqLength?: number): InputBatch {
  const longest = features.reduce((m, f) => Math.max(m, f.inputIds.length), 0);
  const L = seqLength ?? longest;
  if (longest > L) throw new Error(`padBatch: a feature has ${longest} tokens, more than the sequence length ${L}`);
  const B = features.length;
  const inputIds = new Int32Array(B * L);
  const inputMask = new Int32Array(B * L);
  const segmentIds = new Int32Array(B * L);
  features.forEach((f, b) => {
    if (f.segmentIds.length !== f.inputIds.length) throw new Error(`padBatch: feature ${b} has ${f.inputIds.length} ids but ${f.segmentIds.length} segment ids`);
    const row = b * L;
    for (let t = 0; t < f.inputIds.length; t++) {
      inputIds[row + t] = f.inputIds[t]!;
      segmentIds[row + t] = f.segmentIds[t]!;
      inputMask[row + t] = 1;
    }
  });
  return { batchSize: B, seqLength: L, inputIds, inputMask, segmentIds };
}
