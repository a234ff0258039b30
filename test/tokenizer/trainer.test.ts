// The WordPiece trainer: deterministic, streaming, and its vocab.txt usable by HF `tokenizers`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer, WordPiece as HfWordPiece } from 'tokenizers';
import {
  BasicTokenizer, BertTokenizer, Vocab, WordCounter, countFiles, listCorpusFiles, trainVocabFromDirectory, trainWordPiece,
} from '../../src/tokenizer/index.js';
import { adversarialStrings, corpusLines, hfBert } from './reference.js';
import { compareEncodings } from './compare.js';

const lines = corpusLines();
const dir = mkdtempSync(join(tmpdir(), 'electra-train-'));
const corpusDir = join(dir, 'corpus');
mkdirSync(join(corpusDir, 'nested'), { recursive: true });
// A slice of the corpora, split over files; one with CRLF line ends, one of other scripts.
writeFileSync(join(corpusDir, 'a.txt'), lines.slice(0, 6000).join('\n') + '\n');
writeFileSync(join(corpusDir, 'nested', 'b.txt'), lines.slice(60000, 64000).join('\r\n'));
writeFileSync(join(corpusDir, 'nested', 'c.txt'), adversarialStrings.join('\n'));
writeFileSync(join(corpusDir, '.hidden'), 'never read');

test('training is deterministic, special tokens first, no duplicates, requested size', async () => {
  const first = await trainVocabFromDirectory(corpusDir, { vocabSize: 4000 });
  const second = await trainVocabFromDirectory(corpusDir, { vocabSize: 4000 });
  assert.deepEqual(first, second);
  assert.deepEqual(first.slice(0, 5), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
  assert.equal(first.length, 4000);
  assert.equal(new Set(first).size, first.length);
  assert.ok(first.includes('the') && first.includes('##s'), 'frequent words and suffixes are learned');
  // Word counts in another order give the same vocabulary.
  const counter = new WordCounter();
  for (const line of [...lines.slice(0, 300)].reverse()) counter.add(line);
  const forward = new WordCounter();
  for (const line of lines.slice(0, 300)) forward.add(line);
  assert.deepEqual(trainWordPiece(counter.counts(), { vocabSize: 600 }), trainWordPiece(forward.counts(), { vocabSize: 600 }));
});

test('HF tokenizers loads the trained vocab.txt; tokenization is identical, cased and uncased', async () => {
  for (const lowerCase of [true, false]) {
    const tokens = await trainVocabFromDirectory(corpusDir, { vocabSize: 3000, lowerCase });
    const path = join(dir, `vocab-${lowerCase}.txt`);
    writeFileSync(path, tokens.join('\n') + '\n');
    const hf = new Tokenizer(await HfWordPiece.fromFile(path, { unkToken: '[UNK]' }));
    const hfVocab = hf.getVocab();
    assert.equal(Object.keys(hfVocab).length, tokens.length);
    tokens.forEach((t, id) => assert.equal(hfVocab[t], id, `HF id of ${t}`));
    const ours = BertTokenizer.fromVocabFile(path, { lowerCase });
    const reference = await hfBert(path, { lowerCase }, tokens);
    // (parity.test.ts compares trained vocabularies on the full corpora)
    const sample = [...lines.filter((_, i) => i % 50 === 0), ...adversarialStrings];
    const r = await compareEncodings(ours, reference, sample);
    assert.equal(r.mismatches, 0, `lowerCase=${lowerCase}: ${r.mismatches} of ${r.texts} differ:\n${r.examples.join('\n')}`);
  }
});

test('round trip: every training word splits into pieces that rebuild it, without [UNK]', async () => {
  const tokens = await trainVocabFromDirectory(corpusDir, { vocabSize: 2000 });
  const tokenizer = BertTokenizer.fromVocab(tokens);
  const basic = new BasicTokenizer();
  let words = 0;
  for (const line of lines.slice(0, 2000)) {
    for (const word of basic.preTokenize(line)) {
      const pieces = tokenizer.tokenize(word);
      assert.ok(!pieces.includes('[UNK]'), `${word} -> ${pieces.join(' ')}`);
      assert.equal(pieces.map((p, i) => (i > 0 ? p.slice(2) : p)).join(''), word);
      assert.ok(pieces.slice(1).every((p) => p.startsWith('##')));
      words++;
    }
  }
  assert.ok(words > 20000);
  // And the file written is a valid vocab for our loader.
  const path = join(dir, 'roundtrip.txt');
  writeFileSync(path, tokens.join('\n') + '\n');
  assert.deepEqual(Vocab.fromFile(path).tokens, tokens);
});

test('files are streamed line by line with byte progress; small corpora stop early; bad sizes are errors', async () => {
  const files = listCorpusFiles(corpusDir);
  assert.deepEqual(files.map((f) => f.slice(corpusDir.length + 1)), ['a.txt', 'nested/b.txt', 'nested/c.txt']);
  const total = files.reduce((s, f) => s + statSync(f).size, 0);
  const seen: number[] = [];
  const counter = new WordCounter();
  await countFiles(files, counter, (bytes) => seen.push(bytes));
  assert.equal(seen[seen.length - 1], total);
  assert.ok(seen.every((b, i) => i === 0 || b >= seen[i - 1]!));
  const counts = counter.counts();
  const expected = new WordCounter();
  for (const f of files) for (const line of readFileSync(f, 'utf8').split(/\r?\n/)) expected.add(line);
  assert.deepEqual([...counts.entries()].sort(), [...expected.counts().entries()].sort());

  const tiny = trainWordPiece(new Map([['abab', 3], ['ab', 1]]), { vocabSize: 1000 });
  assert.deepEqual(tiny, ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'b', '##a', '##b', 'ab', '##ab', 'abab']);
  assert.throws(() => trainWordPiece(new Map(), { vocabSize: 3 }), /at least 5/);
  await assert.rejects(trainVocabFromDirectory(join(dir, 'missing'), { vocabSize: 100 }), /cannot read corpus directory/);
});

test('word counting reads strict UTF-8: characters split across read chunks count whole; bad bytes name the file and offset', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'electra-vocab-utf8-'));
  // A 3-byte character straddling the 1 MiB read-chunk boundary, and a BOM kept as the old decoder kept it.
  const head = 'x'.repeat((1 << 20) - 1);
  const good = join(dir, 'good.txt');
  writeFileSync(good, `\ufeff${head}\u20acword tail\n`);
  const counter = new WordCounter();
  const seen: number[] = [];
  await countFiles([good], counter, (bytes) => seen.push(bytes));
  const expected = new WordCounter();
  expected.add(readFileSync(good, 'utf8').replace(/\n$/, ''));
  assert.deepEqual([...counter.counts().entries()].sort(), [...expected.counts().entries()].sort());
  assert.equal(seen[seen.length - 1], statSync(good).size, 'progress ends at the file size');

  const bad = join(dir, 'bad.txt');
  writeFileSync(bad, Buffer.concat([Buffer.from('fine line\nthen '), Buffer.from([0xff, 0x41]), Buffer.from('\n')]));
  await assert.rejects(countFiles([bad], new WordCounter()), (e: Error) => {
    assert.match(e.message, /bad\.txt: invalid UTF-8 at byte offset 15; expected UTF-8 text/);
    return true;
  });
  const cut = join(dir, 'cut.txt');
  writeFileSync(cut, Buffer.concat([Buffer.from('ends inside a character '), Buffer.from([0xe2, 0x82])]));
  await assert.rejects(countFiles([cut], new WordCounter()), /cut\.txt: invalid UTF-8/);
});
