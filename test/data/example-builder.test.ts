// The reference algorithm's statistics and invariants on fixed corpora.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPretrainingDataset } from '../../src/data/build.js';
import { readCorpus } from '../../src/data/corpora.js';
import { writeDocuments } from '../../src/data/corpus-export.js';
import { bertUncasedVocab, bertUncasedVocabText } from '../../src/tokenizer/bert-vocab.js';
import { BertTokenizer } from '../../src/tokenizer/tokenizer.js';
import { ExampleBuilder, type BuiltExample, type ExampleBuilderOptions } from '../../src/data/example-builder.js';
import { PythonRandom } from '../../src/data/python-random.js';
import { readShards, tempDir, whitespaceTokenizerModule } from './helpers.js';

const CLS = 101;
const SEP = 102;

test('Brown (150 documents, BERT uncased, L=128): ~10% single-segment draws, ~5% short targets, well-formed examples', async () => {
  const { dir, cleanup } = tempDir('brown-stats');
  try {
    const corpus = join(dir, 'corpus');
    const docs = readCorpus('brown', 150);
    writeDocuments('brown', docs, corpus);
    writeFileSync(join(dir, 'vocab.txt'), bertUncasedVocabText());
    const L = 128;
    const { manifest } = await buildPretrainingDataset(
      { corpusDir: corpus, vocabFile: join(dir, 'vocab.txt'), outputDir: join(dir, 'out'), maxSeqLength: L, numOutFiles: 4, seed: 1 },
      { inProcess: true },
    );
    const c = manifest.counts;
    const n = c.examples;
    assert.ok(n > 2500, `examples ${n}`);
    // Binomial bounds of about 4.5 standard deviations.
    const within = (count: number, p: number, what: string): void => {
      const sd = Math.sqrt(n * p * (1 - p));
      assert.ok(Math.abs(count - n * p) < 4.5 * sd, `${what}: ${count} of ${n} (expected about ${(n * p).toFixed(0)})`);
    };
    within(c.singleSegmentDraws, 0.1, 'single-segment draws');
    within(c.shortTargets, 0.05, 'short targets');
    assert.equal(c.inputTokens, c.keptTokens + c.truncatedTokens, 'every input token is kept or truncated');
    assert.equal(manifest.dtype, 'uint16');

    const examples = readShards(join(dir, 'out')).flat();
    assert.equal(examples.length, n);
    let withoutB = 0;
    let full = 0;
    let kept = 0;
    for (const [i, ex] of examples.entries()) {
      const len = ex.ids.length;
      assert.equal(ex.ids[0], CLS, `example ${i} starts with [CLS]`);
      assert.equal(ex.ids[ex.boundary - 1], SEP, `example ${i}: [SEP] ends segment A`);
      assert.equal(ex.ids[len - 1], SEP, `example ${i} ends with [SEP]`);
      const inner = ex.ids.filter((id, k) => k !== 0 && k !== ex.boundary - 1 && k !== len - 1);
      assert.ok(!inner.includes(CLS) && !inner.includes(SEP), `example ${i}: specials only at their places`);
      assert.ok(ex.boundary >= 3 && len <= L, `example ${i}: A non-empty, length <= L`);
      if (ex.boundary === len) withoutB++;
      if (len >= L - 1) full++;
      kept += len - (ex.boundary === len ? 2 : 3);
    }
    assert.equal(withoutB, c.withoutSecondSegment);
    assert.equal(kept, c.keptTokens);
    // No B: the 10% draws plus examples of a single (long) sentence; full length: all but short
    // targets and document ends (150 documents).
    assert.ok(withoutB >= c.singleSegmentDraws && withoutB < 0.16 * n, `without segment B: ${withoutB} of ${n}`);
    assert.ok(full >= n - c.shortTargets - docs.length, `full-length examples: ${full} of ${n}`);
  } finally {
    cleanup();
  }
});

/**
 * A corpus where token k is the word `t<k>` with id 5 + k, so every id names its position: lets the
 * tests follow each token into the examples.
 */
function uniqueTokenCorpus(dir: string): { tokenDoc: Map<number, number>; total: number; docs: number } {
  const corpus = join(dir, 'corpus');
  let next = 0;
  let seed = 17;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const tokenDoc = new Map<number, number>();
  let docId = 0;
  const files: { id: string; lines: string[] }[] = [];
  for (let f = 0; f < 4; f++) {
    const lines: string[] = [];
    for (let d = 0; d < 12; d++) {
      if (d > 0) lines.push('');
      for (let s = 0; s < 2 + rand(14); s++) {
        const len = rand(10) === 0 ? 30 + rand(60) : 1 + rand(18);
        const words: string[] = [];
        for (let w = 0; w < len; w++) {
          tokenDoc.set(5 + next, docId);
          words.push(`t${next++}`);
        }
        lines.push(words.join(' '));
      }
      docId++;
    }
    files.push({ id: `f${f}`, lines });
  }
  mkdirSync(corpus, { recursive: true });
  for (const f of files) writeFileSync(join(corpus, `${f.id}.txt`), f.lines.join('\n') + '\n');
  // A vocabulary over 65,536 entries, so the shards use int32 ids.
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  for (let k = 0; k < Math.max(next, 70000); k++) vocab.push(`t${k}`);
  writeFileSync(join(dir, 'vocab.txt'), vocab.join('\n') + '\n');
  return { tokenDoc, total: next, docs: docId };
}

for (const blanksSeparateDocs of [true, false]) {
  test(`every token lands in exactly one example unless truncated (blank lines ${blanksSeparateDocs ? '' : 'do not '}separate documents)`, async () => {
    const { dir, cleanup } = tempDir('unique');
    try {
      const { tokenDoc, total } = uniqueTokenCorpus(dir);
      const { manifest } = await buildPretrainingDataset(
        { corpusDir: join(dir, 'corpus'), vocabFile: join(dir, 'vocab.txt'), outputDir: join(dir, 'out'), maxSeqLength: 32, numOutFiles: 3, seed: 5, blanksSeparateDocs },
        { inProcess: true, tokenizerModule: whitespaceTokenizerModule },
      );
      assert.equal(manifest.dtype, 'int32');
      assert.equal(manifest.counts.inputTokens, total);
      const seen = new Set<number>();
      let crossesBlank = 0;
      for (const ex of readShards(join(dir, 'out')).flat()) {
        // [CLS] and [SEP] are ids 2 and 3 in this vocabulary.
        const tokens = ex.ids.filter((id) => id !== 2 && id !== 3);
        const segA = ex.ids.slice(1, ex.boundary - 1);
        const segB = ex.ids.slice(ex.boundary, -1);
        for (const seg of [segA, segB]) {
          for (let k = 1; k < seg.length; k++) assert.ok(seg[k]! > seg[k - 1]!, 'a segment keeps corpus order');
        }
        for (const id of tokens) {
          assert.ok(!seen.has(id), `token ${id} appears in two examples`);
          seen.add(id);
        }
        const docs = new Set(tokens.map((id) => tokenDoc.get(id)));
        // Document ids count up across files; a file holds 12 documents.
        const files = new Set([...docs].map((d) => Math.floor(d! / 12)));
        assert.equal(files.size, 1, 'no example crosses a file end');
        if (blanksSeparateDocs) assert.equal(docs.size, 1, `example crosses a document boundary: ${tokens.join(' ')}`);
        else if (docs.size > 1) crossesBlank++;
      }
      assert.equal(seen.size + manifest.counts.truncatedTokens, total, 'kept + truncated = all tokens');
      assert.ok(manifest.counts.truncatedTokens > 0, 'the corpus exercises truncation');
      if (!blanksSeparateDocs) assert.ok(crossesBlank > 0, 'without blank-line breaks, examples run across blank lines');
    } finally {
      cleanup();
    }
  });
}

test('lines tokenized in place (RangeEncoder) build the same examples as lines cut out and encoded one by one', () => {
  const tokenizer = BertTokenizer.fromVocab(bertUncasedVocab());
  // Documents of real lines with blank lines, whitespace-only lines and padded lines between them.
  const lines = readCorpus('brown', 4).flatMap((doc) => [...doc.lines.map((l, i) => (i % 9 === 0 ? `  ${l}\t` : l)), '', ' \u3000 ']);
  const text = lines.join('\n');
  const options = (): ExampleBuilderOptions => ({ maxSeqLength: 48, clsId: tokenizer.clsId, sepId: tokenizer.sepId, random: new PythonRandom(3) });
  const byLine = new ExampleBuilder((t) => tokenizer.encodeIds(t), options());
  const inPlace = new ExampleBuilder(tokenizer, options());
  const snapshot = (e: BuiltExample | null): string | null => (e ? `${e.length}/${e.segmentBoundary}:${e.ids.join(',')}` : null);
  let start = 0;
  let examples = 0;
  for (const line of lines) {
    const a = snapshot(byLine.addLine(line));
    const b = snapshot(inPlace.addLineRange(text, start, start + line.length));
    assert.equal(b, a);
    if (a) examples++;
    start += line.length + 1;
  }
  assert.ok(examples > 100, `examples ${examples}`);
  assert.deepEqual(inPlace.stats, byLine.stats);
});
