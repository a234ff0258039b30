// vocab.txt loading: the reference's line handling, and clear errors for bad files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WordPiece as HfWordPiece, Tokenizer } from 'tokenizers';
import { BertTokenizer, Vocab, bertUncasedVocab } from '../../src/tokenizer/index.js';
import { bertVocabFile } from './reference.js';

const dir = mkdtempSync(join(tmpdir(), 'electra-vocab-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

test('bert-base-uncased vocab.txt loads with the same ids as HF', async () => {
  const vocab = Vocab.fromFile(bertVocabFile());
  assert.equal(vocab.size, 30522);
  const hf = new Tokenizer(await HfWordPiece.fromFile(bertVocabFile(), { unkToken: '[UNK]' }));
  assert.equal(hf.getVocabSize(), vocab.size);
  for (const id of [0, 1, 100, 101, 102, 103, 999, 1000, 2023, 7592, 29612, 30521]) {
    assert.equal(vocab.tokenOf(id), hf.idToToken(id));
    assert.equal(vocab.idOf(vocab.tokenOf(id)), hf.tokenToId(vocab.tokenOf(id)!));
  }
  assert.deepEqual(vocab.tokens, bertUncasedVocab());
  assert.equal(vocab.idOf('no-such-token'), undefined);
  assert.throws(() => vocab.tokenOf(30522), /outside the vocabulary/);
});

test('CRLF line ends and trailing spaces are dropped; a missing final newline is fine', () => {
  const v = Vocab.fromFile(file('crlf.txt', [...specials, 'hello ', '##lo'].join('\r\n')));
  assert.deepEqual(v.tokens, [...specials, 'hello', '##lo']);
  const t = BertTokenizer.fromVocabFile(file('lf.txt', [...specials, 'hello', '##lo'].join('\n') + '\n'));
  assert.deepEqual(t.tokenize('Hello hellolo'), ['hello', 'hello', '##lo']);
});

test('missing file, duplicates and missing special tokens are clear errors', () => {
  assert.throws(() => BertTokenizer.fromVocabFile(join(dir, 'absent.txt')), /vocab file not found: .*absent\.txt/);
  assert.throws(
    () => Vocab.fromFile(file('dup.txt', [...specials, 'a', 'b', 'a'].join('\n'))),
    /dup\.txt: duplicate entry "a" on line 8 \(first on line 6\)/,
  );
  assert.throws(() => Vocab.fromFile(file('nomask.txt', ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'a'].join('\n'))), /nomask\.txt: missing special token\(s\) \[MASK\]/);
  assert.throws(() => Vocab.fromFile(file('empty.txt', '')), /empty vocab file/);
  assert.throws(() => BertTokenizer.fromVocab(['a', 'b']), /missing special token\(s\) \[PAD\] \[UNK\] \[CLS\] \[SEP\] \[MASK\]/);
});

test('BertTokenizer finds repeats and missing specials with its tries: the same first error as Vocab, in any order', () => {
  // Vocab's Map-based checks are the oracle; the tokenizer checks while building its tries instead.
  const cases: string[][] = [
    [...specials, 'a', 'b', 'a'],
    [...specials, 'ab', 'a', 'ab', 'a'], // the first repeat in id order, not the first key found twice
    [...specials, '', 'x', '', 'y'], // the empty token repeated (it is in no trie)
    [...specials, '##a', 'a', '##a'],
    ['[PAD]', '[UNK]', '[CLS]', 'x', '[MASK]', '[SE]'],
    ['[UNK]', '[PAD]', 'zz', '[MASK]', '[SEP]', '[CLS]', 'z'],
    ['[PAD]', '[PAD]', '[CLS]'],
  ];
  for (const tokens of cases) {
    let expected: string | null = null;
    try {
      new Vocab(tokens, 'v.txt');
    } catch (e) {
      expected = (e as Error).message;
    }
    const path = file('v.txt', tokens.join('\n'));
    if (expected === null) {
      const t = BertTokenizer.fromVocabFile(path);
      const v = new Vocab(tokens);
      assert.deepEqual([t.padId, t.unkId, t.clsId, t.sepId, t.maskId], specials.map((s) => v.idOf(s)));
      assert.deepEqual(t.vocab.tokens, tokens);
      for (const token of tokens) assert.equal(t.vocab.idOf(token), v.idOf(token));
    } else {
      assert.throws(() => BertTokenizer.fromVocabFile(path), { message: expected.replace('v.txt', path) }, JSON.stringify(tokens));
      assert.throws(() => BertTokenizer.fromVocab(tokens), { message: expected.replace('v.txt', 'vocabulary') });
    }
  }
});
