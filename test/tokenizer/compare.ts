// Compares our encodings with the reference's, text by text, and describes the first differences.
import type { Tokenizer } from 'tokenizers';
import type { BertTokenizer } from '../../src/tokenizer/index.js';

export interface Comparison {
  texts: number;
  tokens: number;
  mismatches: number;
  examples: string[];
}

function same(a: ArrayLike<unknown>, b: ArrayLike<unknown>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The reference's [CLS] t [SEP] against our pieces of t (cheaper than full encodings). */
function sameSingle(ours: BertTokenizer, text: string, ids: number[], offsets: number[][], words: (number | null | undefined)[]): boolean {
  const p = ours.pieces(text);
  const n = p.ids.length;
  if (ids.length !== n + 2 || ids[0] !== ours.clsId || ids[n + 1] !== ours.sepId) return false;
  for (let k = 0; k < n; k++) {
    const o = offsets[k + 1]!;
    if (ids[k + 1] !== p.ids[k] || o[0] !== p.starts[k] || o[1] !== p.ends[k] || words[k + 1] !== p.words[k]) return false;
  }
  return true;
}

/** ids, offsets, word ids (and type ids for pairs) of every text (or [a, b] pair), with special tokens. */
export async function compareEncodings(
  ours: BertTokenizer, reference: Tokenizer, inputs: (string | [string, string])[], batch = 4096,
): Promise<Comparison> {
  const result: Comparison = { texts: inputs.length, tokens: 0, mismatches: 0, examples: [] };
  for (let from = 0; from < inputs.length; from += batch) {
    const chunk = inputs.slice(from, from + batch);
    // encodeBatch takes single texts only in this binding; pairs go one by one.
    const refs = chunk.every((input) => typeof input === 'string')
      ? await reference.encodeBatch(chunk as string[])
      : await Promise.all(chunk.map((input) => (typeof input === 'string' ? reference.encode(input) : reference.encode(input[0], input[1]))));
    chunk.forEach((input, k) => {
      const ref = refs[k]!;
      const refIds = ref.getIds();
      const refOffsets = ref.getOffsets();
      const refWords = ref.getWordIds();
      let ok: boolean;
      if (typeof input === 'string') ok = sameSingle(ours, input, refIds, refOffsets, refWords);
      else {
        const enc = ours.encode(input[0], input[1]);
        ok = same(enc.ids, refIds)
          && same(enc.offsets.flat(), refOffsets.flat())
          && same(enc.wordIds.map((w) => w ?? null), refWords.map((w) => w ?? null))
          && same(enc.segmentIds, ref.getTypeIds());
      }
      result.tokens += refIds.length;
      if (!ok) {
        result.mismatches++;
        if (result.examples.length < 5) {
          const enc = typeof input === 'string' ? ours.encode(input) : ours.encode(input[0], input[1]);
          result.examples.push(`${JSON.stringify(input).slice(0, 300)}\n  ours: ${JSON.stringify([enc.tokens, enc.offsets, enc.wordIds]).slice(0, 600)}`
            + `\n  hf:   ${JSON.stringify([ref.getTokens(), refOffsets, refWords]).slice(0, 600)}`);
        }
      }
    });
  }
  return result;
}
