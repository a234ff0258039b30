import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TfCheckpoint, readTfCheckpoint, resolveTfCheckpointPrefix } from '../../src/io/tf-checkpoint.js';
import { snappyUncompress } from '../../src/io/snappy.js';
import { encodeBfloat16, encodeFloat16 } from '../../src/io/dtype.js';
import { UsageError } from '../../src/errors.js';
import { buildTensorBundle, f32Bytes, snappyCompress, type BundleTensor } from './builders.js';
import { assertFormatError, scratchDir } from './util.js';

// In a clone the shared folder sits beside the repository root; compiled tests run from dist/test/io.
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
// A real TF 1.11 checkpoint (from the project's shared fixtures), carried in the repo so a clone alone can test.
const fixtureDir = join(repoRoot, 'test', 'fixtures', 'tf-checkpoint');
const fixture = join(fixtureDir, 'bert_model.ckpt');

test('real TF 1.11 checkpoint: header, 139 entries, README facts', () => {
  const ckpt = new TfCheckpoint(fixture);
  try {
    assert.deepEqual(ckpt.header, { numShards: 1, endianness: 0, producer: 1 });
    assert.equal(ckpt.entries.size, 139);
    const entries = [...ckpt.entries.values()];
    assert.equal(entries.filter((e) => e.dtypeName === 'DT_FLOAT').length, 138);
    assert.equal(entries.filter((e) => e.name.endsWith('/adam_m') || e.name.endsWith('/adam_v')).length, 92);
    // Packed contiguously in key order, ending at the data file's size.
    let end = 0;
    for (const e of entries) {
      assert.equal(e.offset, end, e.name);
      end += e.size;
    }
    assert.equal(end, 8420);
    const we = ckpt.entries.get('bert/embeddings/word_embeddings')!;
    assert.deepEqual({ shape: we.shape, offset: we.offset, size: we.size, crc: we.crc32c }, { shape: [15, 4], offset: 960, size: 240, crc: 0x6cd188be });
    const ffn = ckpt.entries.get('bert/encoder/layer_1/intermediate/dense/kernel')!;
    assert.deepEqual({ shape: ffn.shape, offset: ffn.offset, crc: ffn.crc32c }, { shape: [4, 16], offset: 5856, crc: 0x60bf5aa5 });
    assert.equal(ckpt.entries.get('cls/seq_relationship/output_weights/adam_v')!.crc32c, 0xafe2fa3e);
    const gs = ckpt.entries.get('global_step')!;
    assert.deepEqual({ dtype: gs.dtypeName, shape: gs.shape, offset: gs.offset, crc: gs.crc32c }, { dtype: 'DT_INT64', shape: [], offset: 8412, crc: 0x15293d5e });

    ckpt.verify(); // every tensor's masked CRC-32C matches

    const words = ckpt.readFloat32('bert/embeddings/word_embeddings');
    assert.deepEqual([...words.data.subarray(0, 3)], [-0.00625980739, 0.0207726117, 0.0252587255].map(Math.fround));
    assert.deepEqual([...ckpt.readBytes('bert/embeddings/word_embeddings').subarray(0, 12)],
      [0x12, 0x1f, 0xcd, 0xbb, 0x53, 0x2b, 0xaa, 0x3c, 0x63, 0xeb, 0xce, 0x3c]);
    assert.deepEqual([...ckpt.readFloat32('bert/embeddings/position_embeddings').data.subarray(0, 3)],
      [-0.0155748166, 0.0242681, -0.0334378518].map(Math.fround));
    assert.deepEqual([...ckpt.readFloat32('bert/embeddings/LayerNorm/gamma').data.subarray(0, 3)],
      [0.999994218, 1.0000056, 0.999994457].map(Math.fround));
    const step = ckpt.readValues('global_step');
    assert.ok(step.values instanceof BigInt64Array);
    assert.equal(step.values[0], 20n);
  } finally {
    ckpt.close();
  }
});

test('the test-side TensorBundle writer reproduces the real TF files byte for byte', () => {
  const ckpt = new TfCheckpoint(fixture);
  const tensors: BundleTensor[] = [...ckpt.entries.values()].map((e) => ({
    name: e.name, dtype: e.dtype as BundleTensor['dtype'], shape: e.shape, bytes: ckpt.readBytes(e.name),
  }));
  ckpt.close();
  // TF's table builder: 256 KiB blocks, a restart every 16 keys, no compression.
  const { index, data } = buildTensorBundle(tensors, { blockSize: 262144 });
  assert.deepEqual(Buffer.from(index), readFileSync(`${fixture}.index`));
  assert.deepEqual(Buffer.from(data), readFileSync(`${fixture}.data-00000-of-00001`));
});

function copyFixture(): string {
  const dir = scratchDir('tf');
  copyFileSync(`${fixture}.index`, join(dir, 'bert_model.ckpt.index'));
  copyFileSync(`${fixture}.data-00000-of-00001`, join(dir, 'bert_model.ckpt.data-00000-of-00001'));
  return join(dir, 'bert_model.ckpt');
}

test('damaged copies: flipped data byte, truncated data, bad magic, damaged index block', () => {
  const prefix = copyFixture();
  const dataPath = `${prefix}.data-00000-of-00001`;
  const indexPath = `${prefix}.index`;
  const data = readFileSync(dataPath);
  const index = readFileSync(indexPath);

  const flipped = Buffer.from(data);
  flipped[960 + 7]! ^= 0x01; // inside bert/embeddings/word_embeddings (bytes 960..1200)
  writeFileSync(dataPath, flipped);
  assertFormatError(() => readTfCheckpoint(prefix), ["CRC-32C mismatch for tensor 'bert/embeddings/word_embeddings'", 'index says 0x6cd188be'], 'bert/embeddings/word_embeddings');
  // Only the damaged tensor is affected.
  assert.equal(readTfCheckpoint(prefix, { filter: (n) => n === 'global_step' }).get('global_step')!.data[0], 20);

  writeFileSync(dataPath, data.subarray(0, 8000));
  assertFormatError(() => readTfCheckpoint(prefix), ['truncated', "tensor 'cls/predictions/transform/LayerNorm/beta/adam_v' needs bytes 7988..8004"], 'cls/predictions/transform/LayerNorm/beta/adam_v');
  writeFileSync(dataPath, data);

  const badMagic = Buffer.from(index);
  badMagic[badMagic.length - 1]! ^= 0xff;
  writeFileSync(indexPath, badMagic);
  assertFormatError(() => new TfCheckpoint(prefix), ['bad table magic']);

  const badBlock = Buffer.from(index);
  badBlock[100]! ^= 0x20; // inside the data block
  writeFileSync(indexPath, badBlock);
  assertFormatError(() => new TfCheckpoint(prefix), ['CRC-32C mismatch in a data block at offset 0', 'index file damaged']);

  writeFileSync(indexPath, index.subarray(0, 30));
  assertFormatError(() => new TfCheckpoint(prefix), ['too short for a table footer']);

  writeFileSync(indexPath, index.subarray(100));
  assertFormatError(() => new TfCheckpoint(prefix), ['runs past the end of the table']);
});

test('missing data shard is reported with the tensor that needs it', () => {
  const dir = scratchDir('tf-noshard');
  copyFileSync(`${fixture}.index`, join(dir, 'm.ckpt.index'));
  assertFormatError(() => readTfCheckpoint(join(dir, 'm.ckpt')), ['m.ckpt.data-00000-of-00001: data file is missing', "tensor 'bert/embeddings/LayerNorm/beta'"]);
});

test('checkpoint paths: prefix, .index, data shard, folder with a checkpoint state file or one index', () => {
  const prefix = copyFixture();
  const dir = dirname(prefix);
  assert.equal(resolveTfCheckpointPrefix(prefix), prefix);
  assert.equal(resolveTfCheckpointPrefix(`${prefix}.index`), prefix);
  assert.equal(resolveTfCheckpointPrefix(`${prefix}.data-00000-of-00001`), prefix);
  assert.equal(resolveTfCheckpointPrefix(dir), prefix);
  // The state file TF writes may carry an absolute path from another machine.
  writeFileSync(join(dir, 'checkpoint'), 'model_checkpoint_path: "/data/models/electra/bert_model.ckpt"\nall_model_checkpoint_paths: "/data/models/electra/bert_model.ckpt"\n');
  assert.equal(resolveTfCheckpointPrefix(dir), prefix);
  assert.throws(() => resolveTfCheckpointPrefix(join(dir, 'nope')), (e: unknown) => e instanceof UsageError && /no TensorFlow checkpoint/.test(e.message));
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  assert.throws(() => resolveTfCheckpointPrefix(empty), /holds no TensorFlow checkpoint/);
});

test('snappy: hand-made stream with a literal, an overlapping copy and a 2-byte-offset copy', () => {
  // "abcd" literal, copy len 8 offset 4 (1-byte-offset form), copy len 3 offset 10 (2-byte form).
  const stream = Uint8Array.from([
    15, // uncompressed length
    (4 - 1) << 2, 0x61, 0x62, 0x63, 0x64,
    0x01 | ((8 - 4) << 2), 4,
    0x02 | ((3 - 1) << 2), 10, 0,
  ]);
  assert.equal(new TextDecoder().decode(snappyUncompress(stream)), 'abcdabcdabcdcda');
  assert.throws(() => snappyUncompress(Uint8Array.from([5, 0x01 | (0 << 2), 1])), /outside the 0 bytes written/);
  assert.throws(() => snappyUncompress(Uint8Array.from([9, (4 - 1) << 2, 1, 2, 3, 4])), /header says 9/);
  const text = new TextEncoder().encode('electra/encoder/layer_0/attention/self/query/kernel '.repeat(40));
  const packed = snappyCompress(text);
  assert.ok(packed.length < text.length / 4);
  assert.deepEqual(snappyUncompress(packed), text);
});

test('bundles with snappy-compressed blocks, many blocks, and float16/bfloat16/int32/int64 tensors', () => {
  const tensors: BundleTensor[] = [];
  for (let l = 0; l < 12; l++) {
    for (const m of ['query', 'key', 'value']) {
      const values = Array.from({ length: 6 }, (_, i) => l * 100 + i + (m === 'key' ? 0.5 : 0));
      tensors.push({ name: `electra/encoder/layer_${l}/attention/self/${m}/kernel`, dtype: 'float32', shape: [2, 3], bytes: f32Bytes(values) });
    }
  }
  tensors.push({ name: 'h', dtype: 'float16', shape: [3], bytes: new Uint8Array(encodeFloat16([0.5, -3, 1024]).buffer) });
  tensors.push({ name: 'b', dtype: 'bfloat16', shape: [2], bytes: new Uint8Array(encodeBfloat16([2, -0.25]).buffer) });
  tensors.push({ name: 'i', dtype: 'int32', shape: [2], bytes: new Uint8Array(Int32Array.from([7, -9]).buffer) });
  tensors.push({ name: 'global_step', dtype: 'int64', shape: [], bytes: new Uint8Array(BigInt64Array.from([123456789012n]).buffer) });
  const dir = scratchDir('tf-snappy');
  const { index, data } = buildTensorBundle(tensors, { blockSize: 256, restartInterval: 4, compression: 'snappy' });
  writeFileSync(join(dir, 'model.ckpt.index'), index);
  writeFileSync(join(dir, 'model.ckpt.data-00000-of-00001'), data);
  const ckpt = new TfCheckpoint(join(dir, 'model.ckpt'));
  try {
    assert.equal(ckpt.entries.size, tensors.length);
    assert.deepEqual([...ckpt.readFloat32('electra/encoder/layer_11/attention/self/key/kernel').data], [1100.5, 1101.5, 1102.5, 1103.5, 1104.5, 1105.5]);
    assert.deepEqual([...ckpt.readFloat32('h').data], [0.5, -3, 1024]);
    assert.deepEqual([...ckpt.readFloat32('b').data], [2, -0.25]);
    assert.deepEqual([...ckpt.readValues('i').values], [7, -9]);
    assert.equal((ckpt.readValues('global_step').values as BigInt64Array)[0], 123456789012n);
    ckpt.verify();
  } finally {
    ckpt.close();
  }
});
