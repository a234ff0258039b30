// Exact parity with google-research/electra's build_pretraining_dataset.py: the fixture holds the
// reference's own output on a synthetic corpus (see fixtures/reference/make_fixture.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildPretrainingDataset } from '../../src/data/build.js';
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
    }, { tokenizerModule: whitespaceTokenizerModule, inProcess });
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
