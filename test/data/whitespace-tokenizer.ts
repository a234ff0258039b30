// Test-only tokenizer module for the builder: words split on Python's whitespace, each mapped to its
// line number in vocab.txt ([UNK] otherwise), the same stand-in the reference fixture was made with.
import { readFileSync } from 'node:fs';
import type { PretrainingTokenizer, TokenizerSettings } from '../../src/data/build-job.js';

const PY_SPACE = /[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

export function createPretrainingTokenizer(settings: TokenizerSettings): PretrainingTokenizer {
  const tokens = readFileSync(settings.vocabFile, 'utf8').split('\n').slice(0, -1);
  const ids = new Map(tokens.map((t, i) => [t, i]));
  const id = (t: string): number => {
    const v = ids.get(t);
    if (v === undefined) throw new Error(`${settings.vocabFile} has no ${t}`);
    return v;
  };
  const unk = id('[UNK]');
  return {
    encodeIds: (text) => text.split(PY_SPACE).filter((w) => w !== '').map((w) => ids.get(w) ?? unk),
    vocab: { size: tokens.length, tokens },
    clsId: id('[CLS]'),
    sepId: id('[SEP]'),
  };
}
