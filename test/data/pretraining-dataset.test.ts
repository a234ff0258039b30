import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildPretrainingDataset } from '../../src/data/build.js';
import { vocabHash } from '../../src/data/manifest.js';
import { FeistelPermutation, openPretrainingDataset, type PretrainingBatch } from '../../src/data/pretraining-dataset.js';
import { referenceFixture, readShards, tempDir, whitespaceTokenizerModule } from './helpers.js';

let root: { dir: string; cleanup: () => void };
let dataDir: string;
let vHash: string;
const L = 32;

before(async () => {
  root = tempDir('reader');
  dataDir = join(root.dir, 'data');
  await buildPretrainingDataset({
    corpusDir: join(referenceFixture, 'corpus'), vocabFile: join(referenceFixture, 'vocab.txt'), outputDir: dataDir,
    maxSeqLength: L, numOutFiles: 3, seed: 9,
  }, { inProcess: true, tokenizerModule: whitespaceTokenizerModule });
  vHash = vocabHash(readFileSync(join(referenceFixture, 'vocab.txt'), 'utf8').split('\n').slice(0, -1));
});
after(() => root.cleanup());

test('the Feistel permutation is a bijection, seeded, and differs between epochs', () => {
  for (const n of [1, 2, 3, 7, 64, 65, 1000, 4097]) {
    const p = new FeistelPermutation(n, 42, 0);
    const seen = new Uint8Array(n);
    for (let i = 0; i < n; i++) seen[p.at(i)]++;
    assert.ok(seen.every((c) => c === 1), `n=${n}: every index exactly once`);
  }
  const order = (seed: number, epoch: number): number[] => {
    const p = new FeistelPermutation(1000, seed, epoch);
    return Array.from({ length: 1000 }, (_, i) => p.at(i));
  };
  assert.deepEqual(order(1, 0), order(1, 0));
  assert.notDeepEqual(order(1, 0), order(1, 1));
  assert.notDeepEqual(order(1, 0), order(2, 0));
  // Not close to the identity: few fixed points, neighbours far apart.
  const o = order(1, 0);
  assert.ok(o.filter((v, i) => v === i).length < 10);
});

function rows(batch: PretrainingBatch): { ids: number[]; boundary: number }[] {
  return Array.from({ length: batch.batchSize }, (_, b) => {
    const len = batch.lengths[b]!;
    const off = b * batch.maxSeqLength;
    const mask = Array.from(batch.inputMask.subarray(off, off + L));
    const seg = Array.from(batch.segmentIds.subarray(off, off + L));
    assert.deepEqual(mask, [...Array(len).fill(1), ...Array(L - len).fill(0)]);
    const boundary = seg.indexOf(1) < 0 ? len : seg.indexOf(1);
    assert.deepEqual(seg, [...Array(boundary).fill(0), ...Array(len - boundary).fill(1), ...Array(L - len).fill(0)]);
    assert.ok(batch.inputIds.subarray(off + len, off + L).every((v) => v === 0), 'zero padding');
    return { ids: Array.from(batch.inputIds.subarray(off, off + len)), boundary };
  });
}

test('one epoch of shuffled batches serves every stored example exactly once, with mask and segment ids', () => {
  const stored = readShards(dataDir).flat();
  const ds = openPretrainingDataset(dataDir, { maxSeqLength: L, vocabHash: vHash, batchSize: 7, seed: 1 });
  assert.equal(ds.numExamples, stored.length);
  const served: { ids: number[]; boundary: number }[] = [];
  const indices: number[] = [];
  while (served.length < stored.length) {
    const batch = ds.nextBatch();
    served.push(...rows(batch));
    indices.push(...batch.exampleIndices);
  }
  served.length = stored.length;
  indices.length = stored.length;
  assert.deepEqual([...indices].sort((a, b) => a - b), stored.map((_, i) => i), 'a permutation of the dataset');
  assert.notDeepEqual(indices, stored.map((_, i) => i), 'shuffled');
  indices.forEach((idx, k) => assert.deepEqual(served[k], stored[idx]));
  assert.deepEqual(ds.getState().epoch, 1, 'the last batch ran into the next epoch');
  ds.close();
});

test('unshuffled reading follows the stored order; streaming reads match preloaded ones', () => {
  const stored = readShards(dataDir).flat();
  const plain = openPretrainingDataset(dataDir, { maxSeqLength: L, vocabHash: vHash, batchSize: stored.length, shuffle: false });
  assert.deepEqual(rows(plain.nextBatch()), stored);
  const a = openPretrainingDataset(dataDir, { maxSeqLength: L, vocabHash: vHash, batchSize: 16, seed: 3 });
  const b = openPretrainingDataset(dataDir, { maxSeqLength: L, vocabHash: vHash, batchSize: 16, seed: 3, preloadBytes: 0, maxOpenFiles: 1 });
  for (let i = 0; i < 10; i++) assert.deepEqual(b.nextBatch(), a.nextBatch());
  a.close();
  b.close();
});

test('a reader restored from a saved state serves exactly the batches the original would', () => {
  const a = openPretrainingDataset(dataDir, { maxSeqLength: L, vocabHash: vHash, batchSize: 5, seed: 11 });
  while (a.getState().epoch === 0) a.nextBatch();
  a.nextBatch();
  assert.equal(a.getState().epoch, 1);
  const saved = JSON.parse(JSON.stringify(a.getState()));
  const next = [a.nextBatch(), a.nextBatch(), a.nextBatch()];
  const b = openPretrainingDataset(dataDir, { maxSeqLength: L, vocabHash: vHash, batchSize: 5, state: saved });
  assert.deepEqual([b.nextBatch(), b.nextBatch(), b.nextBatch()], next);
  assert.deepEqual(b.getState(), a.getState());
  assert.throws(
    () => openPretrainingDataset(dataDir, { maxSeqLength: L, vocabHash: vHash, batchSize: 5, state: { ...saved, buildHash: '0'.repeat(64) } }),
    /state belongs to dataset build 0{64}, but .* holds build/,
  );
  assert.throws(() => openPretrainingDataset(dataDir, { maxSeqLength: L, vocabHash: vHash, batchSize: 5, seed: 12, state: saved }), /state has seed 11 but options.seed is 12/);
});

test('datasets and shards built with another length or vocabulary are refused, naming both', () => {
  assert.throws(() => openPretrainingDataset(dataDir, { maxSeqLength: 128, vocabHash: vHash, batchSize: 1 }),
    /built with max_seq_length 32 but this run uses 128/);
  const other = 'f'.repeat(64);
  assert.throws(() => openPretrainingDataset(dataDir, { maxSeqLength: L, vocabHash: other, batchSize: 1 }),
    new RegExp(`built with vocabulary ${vHash} but this run's vocabulary is ${other}`));

  // A shard swapped in from a build with another vocabulary.
  const copy = join(root.dir, 'tampered');
  cpSync(dataDir, copy, { recursive: true });
  const shard = join(copy, 'shard-00001-of-00003.bin');
  const bytes = readFileSync(shard);
  bytes.write('ee'.repeat(32), 32, 'hex');
  writeFileSync(shard, bytes);
  assert.throws(() => openPretrainingDataset(copy, { maxSeqLength: L, vocabHash: vHash, batchSize: 1 }),
    new RegExp(`shard-00001-of-00003\\.bin: shard was built with vocabulary ${'e'.repeat(64)} but this run's vocabulary is ${vHash}`));
  // Without its manifest the folder is read as loose shards, each checked on its own.
  rmSync(join(copy, 'manifest.json'));
  assert.throws(() => openPretrainingDataset(copy, { maxSeqLength: L, vocabHash: vHash, batchSize: 1 }), /vocabSize is required/);
  assert.throws(() => openPretrainingDataset(copy, { maxSeqLength: L, vocabHash: vHash, vocabSize: readFileSync(join(referenceFixture, 'vocab.txt'), 'utf8').split('\n').length - 1, batchSize: 1 }),
    /shard-00001-of-00003\.bin: shard was built with vocabulary e+ but/);
});

test('a shard with flipped in-vocabulary ids is refused on open; a format 1 shard is read with a notice', () => {
  const copy = join(root.dir, 'flipped');
  cpSync(dataDir, copy, { recursive: true });
  const shard = join(copy, 'shard-00002-of-00003.bin');
  const good = readFileSync(shard);
  const bytes = Buffer.from(good);
  // Example 0's token 1 becomes another in-vocabulary id.
  bytes.writeUInt16LE(bytes.readUInt16LE(128 + 2 * 3) === 5 ? 6 : 5, 128 + 2 * 3);
  writeFileSync(shard, bytes);
  for (const preloadBytes of [undefined, 0]) {
    assert.throws(() => openPretrainingDataset(copy, { maxSeqLength: L, vocabHash: vHash, batchSize: 1, ...(preloadBytes === undefined ? {} : { preloadBytes }) }),
      /shard-00002-of-00003\.bin: content checksum mismatch/);
  }
  const v1 = Buffer.from(good);
  v1.writeUInt32LE(1, 8);
  v1.writeUInt32LE(0, 96);
  writeFileSync(shard, v1);
  const notices: string[] = [];
  const ds = openPretrainingDataset(copy, { maxSeqLength: L, vocabHash: vHash, batchSize: 1, onNotice: (m) => notices.push(m) });
  assert.equal(notices.length, 1);
  assert.match(notices[0]!, /shard-00002-of-00003\.bin: shard format 1 has no content checksum .* rebuild it to get one/);
  ds.close();
});
