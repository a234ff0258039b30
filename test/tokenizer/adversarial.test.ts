// Adversarial strings under every normalisation mode HF's BertNormalizer offers, plus offsets in
// UTF-16 units, pairs and special cases of WordPiece.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BertTokenizer, bertUncasedVocab } from '../../src/tokenizer/index.js';
import { adversarialStrings, bertVocabFile, corpusLines, hfBert, type ModeOptions } from './reference.js';
import { compareEncodings } from './compare.js';

const modes: ModeOptions[] = [
  { lowerCase: true },
  { lowerCase: false },
  { lowerCase: true, stripAccents: false },
  { lowerCase: false, stripAccents: true },
];

// Every adversarial string alone, glued to its neighbour, and spliced into corpus text.
function inputs(): (string | [string, string])[] {
  const list: (string | [string, string])[] = [...adversarialStrings];
  const lines = corpusLines();
  adversarialStrings.forEach((s, i) => {
    const next = adversarialStrings[(i + 1) % adversarialStrings.length]!;
    list.push(s + next, `${lines[i * 97]!} ${s} ${lines[i * 89 + 1]!}`, [s, next], [lines[i * 13]!, s]);
  });
  return list;
}

for (const mode of modes) {
  test(`adversarial strings, lowerCase=${mode.lowerCase} stripAccents=${mode.stripAccents ?? 'default'}`, async () => {
    const ours = BertTokenizer.fromVocabFile(bertVocabFile(), mode);
    const reference = await hfBert(bertVocabFile(), mode, bertUncasedVocab());
    const r = await compareEncodings(ours, reference, inputs());
    assert.equal(r.mismatches, 0, `${r.mismatches} of ${r.texts} differ:\n${r.examples.join('\n')}`);
  });
}

test('options: stripAccents follows lowerCase unless set', () => {
  const vocab = bertUncasedVocab();
  assert.equal(BertTokenizer.fromVocab(vocab).stripAccents, true);
  assert.equal(BertTokenizer.fromVocab(vocab, { lowerCase: false }).stripAccents, false);
  assert.equal(BertTokenizer.fromVocab(vocab, { lowerCase: true, stripAccents: false }).stripAccents, false);
  const t = BertTokenizer.fromVocab(vocab);
  assert.deepEqual(t.tokenize('Héllo, WORLD'), ['hello', ',', 'world']);
  assert.deepEqual([t.padId, t.unkId, t.clsId, t.sepId, t.maskId], [0, 100, 101, 102, 103]);
});

test('astral characters: offsets count code points, and utf16 offsets slice the original', () => {
  const t = BertTokenizer.fromVocab(bertUncasedVocab());
  const text = 'a😀b 𠀀x café 👍🏽 ok';
  const cp = t.encode(text);
  const u16 = t.encode(text, null, { offsetUnit: 'utf16' });
  const chars = [...text];
  cp.offsets.forEach(([s, e], i) => {
    if (cp.specialTokensMask[i]) return;
    const piece = chars.slice(s, e).join('');
    assert.equal(piece, text.slice(u16.offsets[i]![0], u16.offsets[i]![1]), `token ${i}`);
  });
  const okIndex = cp.tokens.indexOf('ok');
  assert.deepEqual(cp.offsets[okIndex], [chars.length - 2, chars.length]);
  assert.deepEqual(u16.offsets[okIndex], [text.length - 2, text.length]);
});

test('words longer than 100 characters and words with no split become one [UNK]', () => {
  const t = BertTokenizer.fromVocab(bertUncasedVocab());
  assert.deepEqual(t.tokenize('a'.repeat(100)).every((x) => x !== '[UNK]'), true);
  const long = t.encode('x ' + 'a'.repeat(101) + ' y');
  assert.deepEqual(long.tokens, ['[CLS]', 'x', '[UNK]', 'y', '[SEP]']);
  assert.deepEqual(long.offsets[2], [2, 103]);
  assert.deepEqual(t.tokenize('ᚠᚢᚦ'), ['[UNK]']);
});

test('encodeIds and pieces agree with encode', () => {
  const t = BertTokenizer.fromVocab(bertUncasedVocab());
  for (const line of corpusLines().slice(0, 300)) {
    const enc = t.encode(line);
    assert.deepEqual(t.encodeIds(line), enc.ids.slice(1, -1));
    assert.deepEqual(t.pieces(line).ids, enc.ids.slice(1, -1));
  }
});
