// Exact parity with google-research/electra's build_pretraining_dataset.py: the fixture holds the
// reference's own output on a synthetic corpus (see fixtures/reference/make_fixture.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPretrainingDataset } from '../../src/data/build.js';
import { readCorpus } from '../../src/data/corpora.js';
import { splitSentences, writeDocuments } from '../../src/data/corpus-export.js';
import { bertUncasedVocabText } from '../../src/tokenizer/bert-vocab.js';
import { readShards, referenceFixture, tempDir, whitespaceTokenizerModule } from './helpers.js';

interface ReferenceCase {
  name: string;
  max_seq_length: number;
  num_processes: number;
  num_out_files: number;
  blanks_separate_docs: boolean;
  seed: number;
  /** Per output file: examples as [segmentBoundary, ...ids up to the real length]. */
  shards: number[][][];
}

const cases = (JSON.parse(readFileSync(join(referenceFixture, 'examples.json'), 'utf8')) as { cases: ReferenceCase[] }).cases;

async function buildCase(c: ReferenceCase, inProcess: boolean) {
  const { dir, cleanup } = tempDir('parity');
  try {
    const result = await buildPretrainingDataset({
      corpusDir: join(referenceFixture, 'corpus'), vocabFile: join(referenceFixture, 'vocab.txt'), outputDir: dir,
      maxSeqLength: c.max_seq_length, numProcesses: c.num_processes, numOutFiles: c.num_out_files,
      blanksSeparateDocs: c.blanks_separate_docs, seed: c.seed,
    }, { tokenizerModule: whitespaceTokenizerModule, inProcess, minBytesPerWorker: 0 });
    return { result, shards: readShards(dir) };
  } finally {
    cleanup();
  }
}

for (const c of cases) {
  test(`reference parity: ${c.name} (in-process)`, async () => {
    const { result, shards } = await buildCase(c, true);
    assert.equal(shards.length, c.num_out_files);
    for (let s = 0; s < c.shards.length; s++) {
      const expected = c.shards[s]!;
      assert.equal(shards[s]!.length, expected.length, `${c.name} shard ${s}: example count`);
      for (let i = 0; i < expected.length; i++) {
        const [boundary, ...ids] = expected[i]!;
        assert.deepEqual(shards[s]![i]!.ids, ids, `${c.name} shard ${s} example ${i}: ids`);
        assert.equal(shards[s]![i]!.boundary, boundary, `${c.name} shard ${s} example ${i}: segment boundary`);
      }
    }
    const total = c.shards.reduce((n, s) => n + s.length, 0);
    assert.equal(result.manifest.counts.examples, total);
  });
}

test('reference parity through worker threads (2 jobs)', async () => {
  const c = cases.find((x) => x.num_processes === 2)!;
  const { shards } = await buildCase(c, false);
  const expected = c.shards.map((s) => s.map(([boundary, ...ids]) => ({ ids, boundary })));
  assert.deepEqual(shards, expected);
});

interface EndToEndFixture {
  max_seq_length: number;
  num_processes: number;
  num_out_files: number;
  seed: number;
  shards: { examples: number; sha256: string }[];
}

test('end-to-end parity with the reference and its own BERT tokenizer on real text (Brown, SOTU, Moby Dick)', async () => {
  const keep = process.env.ELECTRA_E2E_DIR;
  const tmp = keep ? { dir: keep, cleanup: () => {} } : tempDir('e2e');
  try {
    const corpus = join(tmp.dir, 'corpus');
    rmSync(corpus, { recursive: true, force: true });
    mkdirSync(corpus, { recursive: true });
    writeDocuments('brown', readCorpus('brown', 40), corpus);
    writeDocuments('sotu', readCorpus('sotu').slice(200, 203).map((d) => ({ id: d.id, lines: d.lines.flatMap(splitSentences) })), corpus);
    writeDocuments('md', readCorpus('mobydick').slice(0, 6), corpus);
    writeFileSync(join(tmp.dir, 'vocab.txt'), bertUncasedVocabText());
    const fixture = JSON.parse(readFileSync(join(referenceFixture, 'e2e-bert.json'), 'utf8')) as EndToEndFixture;
    const out = join(tmp.dir, 'out');
    rmSync(out, { recursive: true, force: true });
    await buildPretrainingDataset({
      corpusDir: corpus, vocabFile: join(tmp.dir, 'vocab.txt'), outputDir: out, maxSeqLength: fixture.max_seq_length,
      numProcesses: fixture.num_processes, numOutFiles: fixture.num_out_files, seed: fixture.seed,
    }, { minBytesPerWorker: 0 });
    const shards = readShards(out);
    assert.deepEqual(shards.map((s) => s.length), fixture.shards.map((s) => s.examples), 'examples per shard');
    shards.forEach((s, k) => {
      const text = JSON.stringify(s.map((e) => [e.boundary, ...e.ids]));
      assert.equal(createHash('sha256').update(text).digest('hex'), fixture.shards[k]!.sha256, `shard ${k} content`);
    });
  } finally {
    tmp.cleanup();
  }
});
