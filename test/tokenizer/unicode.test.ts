// Every Unicode code point through our normalisation and word splitting against HF's
// BertNormalizer and BertPreTokenizer (the tables in unicode-data.ts must not drift).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bertNormalizer, bertPreTokenizer } from 'tokenizers';
import { normalizeText } from '../../src/tokenizer/unicode.js';
import { BasicTokenizer, BertTokenizer, bertUncasedVocab } from '../../src/tokenizer/index.js';
import { bertVocabFile, hfBert } from './reference.js';
import { compareEncodings } from './compare.js';

/** All code points except surrogates, in chunks; each followed by `separator(i)`. */
function chunks(size: number, separator: (i: number) => string): string[] {
  const out: string[] = [];
  let s = '';
  let n = 0;
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    s += String.fromCodePoint(cp) + separator(cp);
    if (++n === size) {
      out.push(s);
      s = '';
      n = 0;
    }
  }
  if (s) out.push(s);
  return out;
}

const modes = [
  { lowerCase: true, stripAccents: true },
  { lowerCase: false, stripAccents: false },
  { lowerCase: true, stripAccents: false },
  { lowerCase: false, stripAccents: true },
];

// 'x' between characters keeps each one from interacting with the next (no canonical reordering).
const isolated = chunks(2048, () => 'x');

for (const mode of modes) {
  test(`every code point: normalised text and pre-tokens equal HF's (lowerCase=${mode.lowerCase}, stripAccents=${mode.stripAccents})`, () => {
    const normalizer = bertNormalizer({ lowercase: mode.lowerCase, stripAccents: mode.stripAccents });
    const preTokenizer = bertPreTokenizer();
    const basic = new BasicTokenizer(mode);
    const bad: string[] = [];
    for (const text of isolated) {
      const expected = normalizer.normalizeString(text);
      if (normalizeText(text, mode.lowerCase, mode.stripAccents) !== expected) {
        // Narrow down to the characters that differ.
        for (const ch of text) {
          const want = normalizer.normalizeString(ch);
          const got = normalizeText(ch, mode.lowerCase, mode.stripAccents);
          if (want !== got && bad.length < 10) bad.push(`U+${ch.codePointAt(0)!.toString(16)}: ours ${JSON.stringify(got)}, hf ${JSON.stringify(want)}`);
        }
      }
      const words = preTokenizer.preTokenizeString(expected).map(([w]) => w);
      const ours = basic.preTokenize(text);
      if (words.join('\u0000') !== ours.join('\u0000') && bad.length < 10) {
        const at = ours.findIndex((w, i) => w !== words[i]);
        bad.push(`pre-tokens differ at ${at}: ours ${JSON.stringify(ours.slice(at, at + 3))}, hf ${JSON.stringify(words.slice(at, at + 3))}`);
      }
    }
    assert.deepEqual(bad, []);
  });
}

test('every code point inside words and between spaces: ids and offsets equal HF\'s', async () => {
  const vocab = bertUncasedVocab();
  // Characters glued to letters and to each other, and standing alone: exercises dropping,
  // splitting and code-point offsets (astral characters count one). Uncased over all planes;
  // cased over the BMP (its classes come from the same tables, checked above for every plane).
  const all = chunks(1024, (cp) => (cp % 3 === 0 ? ' ' : cp % 3 === 1 ? 'e' : ''));
  const bmp = all.slice(0, Math.ceil((0x10000 - 0x800) / 1024));
  for (const [lowerCase, texts] of [[true, all], [false, bmp]] as const) {
    const ours = BertTokenizer.fromVocabFile(bertVocabFile(), { lowerCase });
    const reference = await hfBert(bertVocabFile(), { lowerCase }, vocab);
    const r = await compareEncodings(ours, reference, texts);
    assert.equal(r.mismatches, 0, `lowerCase=${lowerCase}: ${r.mismatches} of ${r.texts} chunks differ:\n${r.examples.join('\n')}`);
  }
});
