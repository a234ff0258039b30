// TFRecords both ways: files written here by an encoder built from the format's specification
// (TFRecord framing, protobuf wire format, CRC-32C bit by bit) are read by the dataset; the builder's
// tfrecord output holds the same examples as its shards and parses with the same hand-written code.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildPretrainingDataset } from '../../src/data/build.js';
import { vocabHash } from '../../src/data/manifest.js';
import { openPretrainingDataset, type PretrainingDatasetState } from '../../src/data/pretraining-dataset.js';
import { crc32cBitwise, referenceFixture, tempDir, whitespaceTokenizerModule } from './helpers.js';

// ---- the independent encoder ----
const masked = (crc: number): number => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;

function varint(n: number): number[] {
  let x = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x > 0n) b |= 0x80;
    out.push(b);
  } while (x > 0n);
  return out;
}
const lenDelimited = (field: number, body: number[]): number[] => [(field << 3) | 2, ...varint(body.length), ...body];

/** tf.train.Example with int64 features; packed lists as [packed=true], else one varint per value. */
function example(features: [string, number[]][], packed: boolean): number[] {
  const entries = features.map(([name, values]) => {
    const list = packed ? lenDelimited(1, values.flatMap(varint)) : values.flatMap((v) => [0x08, ...varint(v)]);
    const feature = lenDelimited(3, list);
    return lenDelimited(1, [...lenDelimited(1, [...Buffer.from(name)]), ...lenDelimited(2, feature)]);
  });
  return lenDelimited(1, entries.flat());
}

function frame(payload: number[]): Buffer {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(payload.length));
  const out = Buffer.alloc(payload.length + 16);
  len.copy(out, 0);
  out.writeUInt32LE(masked(crc32cBitwise(len)), 8);
  Buffer.from(payload).copy(out, 12);
  out.writeUInt32LE(masked(crc32cBitwise(Uint8Array.from(payload))), 12 + payload.length);
  return out;
}

/** Reads framing and examples back with the test's own code (for the builder's output). */
function parseFile(bytes: Buffer): { ids: number[]; mask: number[]; seg: number[] }[] {
  const out: { ids: number[]; mask: number[]; seg: number[] }[] = [];
  let pos = 0;
  const readVarint = (b: Uint8Array, p: number): [number, number] => {
    let v = 0;
    let s = 1;
    for (;;) {
      const c = b[p++]!;
      v += (c & 0x7f) * s;
      s *= 128;
      if (!(c & 0x80)) return [v, p];
    }
  };
  while (pos < bytes.length) {
    const len = Number(bytes.readBigUInt64LE(pos));
    assert.equal(bytes.readUInt32LE(pos + 8), masked(crc32cBitwise(bytes.subarray(pos, pos + 8))));
    const payload = bytes.subarray(pos + 12, pos + 12 + len);
    assert.equal(bytes.readUInt32LE(pos + 12 + len), masked(crc32cBitwise(payload)));
    pos += len + 16;
    // Re-encode what we expect and compare bytes: keys in the reference's order, packed lists.
    const features: Record<string, number[]> = {};
    // Example.features -> entries
    let [flen, p] = readVarint(payload, 1);
    assert.equal(payload[0], 0x0a);
    const end = p + flen;
    while (p < end) {
      assert.equal(payload[p], 0x0a);
      let elen;
      [elen, p] = readVarint(payload, p + 1);
      const entry = payload.subarray(p, p + elen);
      p += elen;
      const [klen, kp] = readVarint(entry, 1);
      const name = Buffer.from(entry.subarray(kp, kp + klen)).toString();
      let q = kp + klen;
      assert.equal(entry[q], 0x12);
      [, q] = readVarint(entry, q + 1);
      assert.equal(entry[q], 0x1a);
      [, q] = readVarint(entry, q + 1);
      assert.equal(entry[q], 0x0a);
      let plen;
      [plen, q] = readVarint(entry, q + 1);
      const values: number[] = [];
      const pend = q + plen;
      while (q < pend) {
        let v;
        [v, q] = readVarint(entry, q);
        values.push(v);
      }
      features[name] = values;
    }
    out.push({ ids: features.input_ids!, mask: features.input_mask!, seg: features.segment_ids! });
  }
  return out;
}

let root: { dir: string; cleanup: () => void };
let vHash: string;
let vocabSize: number;
const L = 32;

before(() => {
  root = tempDir('tfrecord');
  const tokens = readFileSync(join(referenceFixture, 'vocab.txt'), 'utf8').split('\n').slice(0, -1);
  vHash = vocabHash(tokens);
  vocabSize = tokens.length;
});
after(() => root.cleanup());

type Row = { ids: number[]; boundary: number };
function readAll(spec: string, extra: { vocabSize?: number } = {}): Row[] {
  const ds = openPretrainingDataset(spec, { maxSeqLength: L, vocabHash: vHash, vocabSize, batchSize: 1, shuffle: false, ...extra });
  const rows: Row[] = [];
  for (let i = 0; i < ds.numExamples; i++) {
    const e = ds.readExample(i);
    rows.push({ ids: Array.from(e.ids.subarray(0, e.length)), boundary: e.segmentBoundary });
  }
  ds.close();
  return rows;
}

/** An example's three features as the reference writes them. */
function features(row: Row): [string, number[]][] {
  const pad = (a: number[]): number[] => [...a, ...Array(L - a.length).fill(0)];
  return [
    ['input_ids', pad(row.ids)],
    ['input_mask', pad(row.ids.map(() => 1))],
    ['segment_ids', pad(row.ids.map((_, i) => (i < row.boundary ? 0 : 1)))],
  ];
}

test('TFRecords from an independent encoder are read: features in any order, packed and unpacked lists', () => {
  const dir = join(root.dir, 'hand');
  mkdirSync(dir);
  const rows: Row[] = [
    { ids: [2, 5, 6, 3, 7, 8, 3], boundary: 4 },
    { ids: [2, 9, 10, 11, 3], boundary: 5 },
    { ids: [2, ...Array.from({ length: L - 2 }, (_, i) => 4 + (i % 50)), 3], boundary: L },
    { ids: [2, 12, 3, 13, 3], boundary: 3 },
  ];
  const records = rows.map((r, k) => {
    const f = features(r);
    // Rotate the feature order, and add a feature the reader ignores.
    const order = [...f.slice(k % 3), ...f.slice(0, k % 3), ['extra', [1, 2, 3]] as [string, number[]]];
    return frame(example(order, k % 2 === 0));
  });
  writeFileSync(join(dir, 'pretrain_data.tfrecord-0-of-2'), Buffer.concat(records.slice(0, 3)));
  writeFileSync(join(dir, 'pretrain_data.tfrecord-1-of-2'), records[3]!);
  assert.deepEqual(readAll(join(dir, 'pretrain_data.tfrecord*')), rows);
  assert.deepEqual(readAll(dir), rows);
  assert.deepEqual(readAll(`${join(dir, 'pretrain_data.tfrecord-1-of-2')},${join(dir, 'pretrain_data.tfrecord-0-of-2')}`), [rows[3], ...rows.slice(0, 3)]);

  // Bad records are named by file and index.
  const bad = join(root.dir, 'bad');
  mkdirSync(bad);
  const flipped = Buffer.concat(records.slice(0, 3));
  flipped[records[0]!.length + records[1]!.length + 30]! ^= 0x10;
  writeFileSync(join(bad, 'pretrain_data.tfrecord-0-of-1'), flipped);
  assert.throws(() => readAll(bad), /pretrain_data\.tfrecord-0-of-1: record 2 \(byte \d+\): payload CRC mismatch/);
  writeFileSync(join(bad, 'pretrain_data.tfrecord-0-of-1'), Buffer.concat(records.slice(0, 2)).subarray(0, records[0]!.length + 20));
  assert.throws(() => readAll(bad), /record 1 \(byte \d+\): truncated/);
  writeFileSync(join(bad, 'pretrain_data.tfrecord-0-of-1'), frame(example(features({ ids: [2, vocabSize + 5, 3], boundary: 3 }), true)));
  assert.throws(() => readAll(bad), new RegExp(`record 0: input_ids\\[1\\] = ${vocabSize + 5} is outside the vocabulary \\[0, ${vocabSize}\\)`));
  writeFileSync(join(bad, 'pretrain_data.tfrecord-0-of-1'), frame(example(features(rows[0]!).slice(0, 2), true)));
  assert.throws(() => readAll(bad), /record 0: no segment_ids feature \(found input_ids, input_mask\)/);
  writeFileSync(join(bad, 'pretrain_data.tfrecord-0-of-1'), frame(example(features(rows[0]!).map(([n, v]) => [n, v.slice(0, 16)]), true)));
  assert.throws(() => readAll(bad), /record 0: feature 'input_ids' has 16 values, expected max_seq_length 32/);
  writeFileSync(join(bad, 'pretrain_data.tfrecord-0-of-1'), Buffer.from('not a tfrecord file at all'));
  assert.throws(() => readAll(bad), /record 0 \(byte 0\): length CRC mismatch/);
});

test('--output-format tfrecord writes the reference\'s files with the same examples as shards, and resumes exactly', async () => {
  const build = (outputDir: string, outputFormat: 'shards' | 'tfrecord') => buildPretrainingDataset({
    corpusDir: join(referenceFixture, 'corpus'), vocabFile: join(referenceFixture, 'vocab.txt'), outputDir,
    maxSeqLength: L, numOutFiles: 4, numProcesses: 2, seed: 5, outputFormat,
  }, { inProcess: true, tokenizerModule: whitespaceTokenizerModule });
  const shardsDir = join(root.dir, 'shards');
  const tfDir = join(root.dir, 'tf');
  await build(shardsDir, 'shards');
  const r = await build(tfDir, 'tfrecord');
  assert.equal(r.manifest.outputFormat, 'tfrecord');
  const names = readdirSync(tfDir).filter((n) => n.startsWith('pretrain_data')).sort();
  assert.deepEqual(names, ['pretrain_data.tfrecord-0-of-4', 'pretrain_data.tfrecord-1-of-4', 'pretrain_data.tfrecord-2-of-4', 'pretrain_data.tfrecord-3-of-4']);
  // File i holds what shard i holds (same jobs, same round-robin), parsed by the test's own decoder.
  const shardRows = (i: number): Row[] => readAll(join(shardsDir, `shard-0000${i}-of-00004.bin`));
  for (let i = 0; i < 4; i++) {
    const parsed = parseFile(readFileSync(join(tfDir, names[i]!)));
    const expected = shardRows(i);
    assert.ok(expected.length > 0);
    assert.deepEqual(parsed, expected.map((row) => {
      const f = features(row);
      return { ids: f[0]![1], mask: f[1]![1], seg: f[2]![1] };
    }));
  }
  assert.deepEqual(readAll(tfDir), readAll(shardsDir));
  // A rerun finds the build complete.
  assert.equal((await build(tfDir, 'tfrecord')).alreadyComplete, true);

  // A mix of our shards and TFRecords; resume over TFRecord input is exact.
  const mixed = `${join(shardsDir, 'shard-00000-of-00004.bin')},${join(tfDir, 'pretrain_data.tfrecord-[123]-of-4')}`;
  assert.deepEqual(readAll(mixed), readAll(shardsDir));
  const open = (state?: PretrainingDatasetState) => openPretrainingDataset(join(tfDir, 'pretrain_data.tfrecord*'), {
    maxSeqLength: L, vocabHash: vHash, vocabSize, batchSize: 3, seed: 4, preloadBytes: 0, ...(state ? { state } : {}),
  });
  const a = open();
  for (let i = 0; i < 5; i++) a.nextBatch();
  const b = open(a.getState());
  for (let i = 0; i < 7; i++) assert.deepEqual(b.nextBatch().inputIds, a.nextBatch().inputIds);
  a.close();
  b.close();
});
