// What TokenizerPool and its workers exchange: texts in, flat typed arrays out (transferable).
import type { BertTokenizer } from './tokenizer.js';

/**
 * Texts travel as one joined string plus their lengths: cloning one long string is a copy, while
 * cloning thousands of short ones costs per string.
 */
export interface BatchRequest {
  id: number;
  joined: string;
  lengths: Int32Array;
  withOffsets: boolean;
}

export function packTexts(texts: readonly string[]): { joined: string; lengths: Int32Array } {
  return { joined: texts.join(''), lengths: Int32Array.from(texts, (t) => t.length) };
}

export function unpackTexts(joined: string, lengths: Int32Array): string[] {
  const texts = new Array<string>(lengths.length);
  let at = 0;
  for (let i = 0; i < lengths.length; i++) {
    texts[i] = joined.slice(at, at + lengths[i]!);
    at += lengths[i]!;
  }
  return texts;
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
  if (!withOffsets) {
    const all: number[] = [];
    texts.forEach((text, i) => {
      const before = all.length;
      tokenizer.encodeIdsInto(text, all);
      lengths[i] = all.length - before;
    });
    return { lengths, ids: Int32Array.from(all), offsets: null, wordIds: null };
  }
  const pieces = texts.map((t) => tokenizer.pieces(t));
  const total = pieces.reduce((s, p) => s + p.ids.length, 0);
  const ids = new Int32Array(total);
  const offsets = new Int32Array(2 * total);
  const wordIds = new Int32Array(total);
  let at = 0;
  pieces.forEach((p, i) => {
    lengths[i] = p.ids.length;
    for (let k = 0; k < p.ids.length; k++, at++) {
      ids[at] = p.ids[k]!;
      offsets[2 * at] = p.starts[k]!;
      offsets[2 * at + 1] = p.ends[k]!;
      wordIds[at] = p.words[k]!;
    }
  });
  return { lengths, ids, offsets, wordIds };
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
