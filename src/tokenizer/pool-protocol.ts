// What TokenizerPool and its workers exchange: texts in, flat typed arrays out (transferable).
import type { BertTokenizer } from './tokenizer.js';

/** Texts travel as an array: cloning keeps each string's compact one-byte form when it has one. */
export interface BatchRequest {
  id: number;
  texts: string[];
  withOffsets: boolean;
}

/** Pieces (no special tokens) of many texts, back to back. */
export interface EncodedBatch {
  /** Tokens per text; text i owns tokens [sum(lengths[0..i)), +lengths[i]). */
  lengths: Int32Array;
  ids: Int32Array;
  /** Code-point [start, end) per token, interleaved; null unless offsets were asked for. */
  offsets: Int32Array | null;
  /** Word index per token within its text; null unless offsets were asked for. */
  wordIds: Int32Array | null;
}

export function packBatch(tokenizer: BertTokenizer, texts: readonly string[], withOffsets: boolean): EncodedBatch {
  const lengths = new Int32Array(texts.length);
  let ids: Int32Array<ArrayBuffer> = new Int32Array(1 << 16);
  let offsets: Int32Array<ArrayBuffer> | null = withOffsets ? new Int32Array(1 << 17) : null;
  let wordIds: Int32Array<ArrayBuffer> | null = withOffsets ? new Int32Array(1 << 16) : null;
  let total = 0;
  const scratch: number[] = [];
  texts.forEach((text, i) => {
    // One small array per text, copied into typed arrays that double when full.
    let n: number;
    let pieces = null;
    if (withOffsets) {
      pieces = tokenizer.pieces(text);
      n = pieces.ids.length;
    } else {
      scratch.length = 0;
      tokenizer.encodeIdsInto(text, scratch);
      n = scratch.length;
    }
    if (total + n > ids.length) {
      const capacity = Math.max(2 * ids.length, total + n);
      ids = grow(ids, capacity);
      if (offsets) offsets = grow(offsets, 2 * capacity);
      if (wordIds) wordIds = grow(wordIds, capacity);
    }
    if (pieces) {
      for (let k = 0; k < n; k++) {
        ids[total + k] = pieces.ids[k]!;
        offsets![2 * (total + k)] = pieces.starts[k]!;
        offsets![2 * (total + k) + 1] = pieces.ends[k]!;
        wordIds![total + k] = pieces.words[k]!;
      }
    } else {
      for (let k = 0; k < n; k++) ids[total + k] = scratch[k]!;
    }
    lengths[i] = n;
    total += n;
  });
  return {
    lengths,
    ids: ids.slice(0, total),
    offsets: offsets ? offsets.slice(0, 2 * total) : null,
    wordIds: wordIds ? wordIds.slice(0, total) : null,
  };
}

function grow(a: Int32Array, capacity: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(capacity);
  b.set(a);
  return b;
}

/** Joins batches in order. */
export function concatBatches(parts: readonly EncodedBatch[], withOffsets: boolean): EncodedBatch {
  const texts = parts.reduce((s, p) => s + p.lengths.length, 0);
  const tokens = parts.reduce((s, p) => s + p.ids.length, 0);
  const out: EncodedBatch = {
    lengths: new Int32Array(texts),
    ids: new Int32Array(tokens),
    offsets: withOffsets ? new Int32Array(2 * tokens) : null,
    wordIds: withOffsets ? new Int32Array(tokens) : null,
  };
  let t = 0;
  let k = 0;
  for (const p of parts) {
    out.lengths.set(p.lengths, t);
    out.ids.set(p.ids, k);
    if (out.offsets && p.offsets) out.offsets.set(p.offsets, 2 * k);
    if (out.wordIds && p.wordIds) out.wordIds.set(p.wordIds, k);
    t += p.lengths.length;
    k += p.ids.length;
  }
  return out;
}
