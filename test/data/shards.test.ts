import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  SHARD_HEADER_BYTES, ShardReader, ShardWriter, idWidthForVocab, readShardHeader, shardFileName, type IdWidth,
} from '../../src/data/shards.js';
import { crc32cBitwise, tempDir } from './helpers.js';

const VOCAB_HASH = 'ab'.repeat(32);
const BUILD_HASH = 'cd'.repeat(32);

function example(L: number, length: number, seed: number, maxId: number): Int32Array {
  const ids = new Int32Array(L);
  for (let i = 0; i < length; i++) ids[i] = (seed * 7919 + i * 104729) % maxId;
  return ids;
}

for (const idWidth of [2, 4] as IdWidth[]) {
  test(`shards round-trip (${idWidth === 2 ? 'uint16' : 'int32'} ids), appearing only when finished`, () => {
    const { dir, cleanup } = tempDir('shard');
    try {
      const L = 16;
      const maxId = idWidth === 2 ? 65536 : 1 << 30;
      const path = join(dir, shardFileName(3, 10));
      const w = new ShardWriter(path, { idWidth, maxSeqLength: L, vocabHash: VOCAB_HASH, buildHash: BUILD_HASH, bufferedRecords: 3 });
      const written: [Int32Array, number, number][] = [];
      for (let k = 0; k < 11; k++) {
        const length = 3 + (k % (L - 2));
        const boundary = k % 3 === 0 ? length : 2 + (k % (length - 2));
        const ids = example(L, length, k, maxId);
        w.write(ids, length, boundary);
        written.push([ids, length, boundary]);
      }
      assert.equal(existsSync(path), false, 'no final file before finish()');
      assert.equal(existsSync(w.partialPath), true);
      assert.equal(w.finish(), 11);
      assert.equal(existsSync(w.partialPath), false);
      assert.equal(statSync(path).size, SHARD_HEADER_BYTES + 11 * (L + 2) * idWidth);
      const h = readShardHeader(path);
      const content = readFileSync(path).subarray(SHARD_HEADER_BYTES);
      assert.deepEqual(h, { formatVersion: 2, idWidth, maxSeqLength: L, numExamples: 11, vocabHash: VOCAB_HASH, buildHash: BUILD_HASH, contentCrc32c: crc32cBitwise(content) });
      for (const preload of [true, false]) {
        const r = new ShardReader(path, { preload, verify: { vocabSize: maxId } });
        const ids = new Int32Array(L);
        written.forEach(([expected, length, boundary], i) => {
          assert.deepEqual(r.read(i, ids), [length, boundary]);
          assert.deepEqual(ids, expected, `example ${i} (preload ${preload})`);
        });
        assert.throws(() => r.read(11, ids), /out of range/);
        r.close();
      }
    } finally {
      cleanup();
    }
  });
}

test('the id width follows the vocabulary size', () => {
  assert.equal(idWidthForVocab(30522), 2);
  assert.equal(idWidthForVocab(65536), 2);
  assert.equal(idWidthForVocab(65537), 4);
});

test('ids that do not fit and malformed examples are refused', () => {
  const { dir, cleanup } = tempDir('shard-bad');
  try {
    const w = new ShardWriter(join(dir, 's.bin'), { idWidth: 2, maxSeqLength: 8, vocabHash: VOCAB_HASH, buildHash: BUILD_HASH });
    assert.throws(() => w.write(Int32Array.from([2, 70000, 3, 0, 0, 0, 0, 0]), 3, 3), /70000 does not fit a uint16/);
    assert.throws(() => w.write(new Int32Array(8), 9, 3), /bad example/);
    assert.throws(() => w.write(new Int32Array(7), 3, 3), /7 ids, shard holds 8/);
    w.abort();
    assert.equal(existsSync(w.partialPath), false, 'abort removes the partial file');
  } finally {
    cleanup();
  }
});

test('truncated, foreign or corrupt shard files are reported with the file name', () => {
  const { dir, cleanup } = tempDir('shard-corrupt');
  try {
    const path = join(dir, 'a.bin');
    const w = new ShardWriter(path, { idWidth: 2, maxSeqLength: 8, vocabHash: VOCAB_HASH, buildHash: BUILD_HASH });
    for (let i = 0; i < 4; i++) w.write(example(8, 5, i, 1000), 5, 3);
    w.finish();
    const good = readFileSync(path);

    truncateSync(path, good.length - 3);
    assert.throws(() => readShardHeader(path), /a\.bin: \d+ bytes, expected \d+ for 4 examples/);

    writeFileSync(path, Buffer.concat([Buffer.from('NOTASHRD'), good.subarray(8)]));
    assert.throws(() => readShardHeader(path), /a\.bin: not an electra-ts pre-training shard/);

    const versioned = Buffer.from(good);
    versioned.writeUInt32LE(99, 8);
    writeFileSync(path, versioned);
    assert.throws(() => readShardHeader(path), /format version 99, expected 1 to 2/);

    // An in-vocabulary id changed: only the checksum can tell, and it does on open.
    const flipped = Buffer.from(good);
    flipped.writeUInt16LE(flipped.readUInt16LE(SHARD_HEADER_BYTES + 2 * (10 + 2 + 1)) ^ 1, SHARD_HEADER_BYTES + 2 * (10 + 2 + 1));
    writeFileSync(path, flipped);
    for (const preload of [true, false]) {
      assert.throws(() => new ShardReader(path, { preload, verify: { vocabSize: 1000 } }), /a\.bin: content checksum mismatch: CRC-32C of the examples is [0-9a-f]{8}, the header says [0-9a-f]{8}/);
    }
    // An id outside the vocabulary is named by example and token (checked before the checksum is complete).
    const outOfVocab = Buffer.from(good);
    outOfVocab.writeUInt16LE(5000, SHARD_HEADER_BYTES + 2 * (2 * 10 + 2 + 4));
    writeFileSync(path, outOfVocab);
    assert.throws(() => new ShardReader(path, { preload: false, verify: { vocabSize: 1000 } }), /a\.bin: example 2: token 4 has id 5000, outside the vocabulary \[0, 1000\)/);
    // Format 1 (no checksum) is still read.
    const v1 = Buffer.from(flipped);
    v1.writeUInt32LE(1, 8);
    v1.writeUInt32LE(0, 96);
    writeFileSync(path, v1);
    const old = new ShardReader(path, { preload: true, verify: { vocabSize: 1000 } });
    assert.equal(old.header.contentCrc32c, null);
    assert.equal(old.numExamples, 4);

    const badRecord = Buffer.from(good);
    badRecord.writeUInt16LE(9, SHARD_HEADER_BYTES); // length 9 > L = 8
    writeFileSync(path, badRecord);
    assert.throws(() => new ShardReader(path, { preload: true }).read(0, new Int32Array(8)), /example 0: length 9/);
  } finally {
    cleanup();
  }
});
