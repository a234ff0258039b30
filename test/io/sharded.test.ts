import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { planShards, readShardedSafetensors, writeSafetensorsWeights } from '../../src/io/sharded.js';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import type { Tensor, TensorMap } from '../../src/io/tensor.js';
import { randomArray } from '../helpers.js';
import { assertFormatError, scratchDir } from './util.js';

function tensors(): TensorMap {
  const m: TensorMap = new Map();
  // 40, 40, 40, 160 and 8 bytes.
  for (const [name, n] of [['a', 10], ['b', 10], ['c', 10], ['d', 40], ['e', 2]] as const) {
    m.set(name, { shape: [n], data: randomArray(n, n + name.charCodeAt(0)) });
  }
  return m;
}

test('planShards packs in order and gives an oversized tensor a shard of its own (as transformers does)', () => {
  const plan = planShards([...tensors()], 100);
  assert.deepEqual(plan.map((s) => s.map(([n]) => n)), [['a', 'b'], ['d'], ['c', 'e']]);
  assert.deepEqual(planShards([...tensors()], 1e9).map((s) => s.length), [5]);
});

test('sharded write: shards, index with total_size and sorted weight_map; read back identical', () => {
  const dir = scratchDir('shard');
  const t = tensors();
  const written = writeSafetensorsWeights(dir, t, 100);
  assert.deepEqual(written, [
    'model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors',
    'model.safetensors.index.json',
  ]);
  const index = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8')) as {
    metadata: { total_size: number }; weight_map: Record<string, string>;
  };
  assert.equal(index.metadata.total_size, 288);
  assert.deepEqual(Object.keys(index.weight_map), ['a', 'b', 'c', 'd', 'e']);
  assert.equal(index.weight_map['c'], 'model-00003-of-00003.safetensors');
  assert.equal(index.weight_map['d'], 'model-00002-of-00003.safetensors');
  assert.deepEqual([...readSafetensors(join(dir, 'model-00001-of-00003.safetensors')).tensors.keys()], ['a', 'b']);
  const back = readShardedSafetensors(join(dir, 'model.safetensors.index.json'));
  assert.equal(back.tensors.size, 5);
  for (const [name, x] of t) assert.deepEqual(back.tensors.get(name)!.data, x.data, name);
  assert.deepEqual(back.metadata, { format: 'pt' });
});

test('below the limit a single model.safetensors is written', () => {
  const dir = scratchDir('shard1');
  assert.deepEqual(writeSafetensorsWeights(dir, tensors()), ['model.safetensors']);
  assert.deepEqual(readdirSync(dir), ['model.safetensors']);
});

test('index and shards that disagree are rejected, naming the tensor', () => {
  const dir = scratchDir('shard-bad');
  writeSafetensorsWeights(dir, tensors(), 100);
  const indexPath = join(dir, 'model.safetensors.index.json');
  const original = readFileSync(indexPath, 'utf8');
  const edit = (fn: (index: { weight_map: Record<string, string> }) => void): void => {
    const index = JSON.parse(original) as { weight_map: Record<string, string> };
    fn(index);
    writeFileSync(indexPath, JSON.stringify(index));
  };

  edit((i) => { i.weight_map['c'] = 'model-00001-of-00003.safetensors'; });
  assertFormatError(() => readShardedSafetensors(indexPath), ["tensor 'c' is assigned to this shard", 'is not in it'], 'c');

  edit((i) => { delete i.weight_map['e']; });
  assertFormatError(() => readShardedSafetensors(indexPath), ["tensor 'e' is in this shard but weight_map does not list it"], 'e');

  edit((i) => { i.weight_map['a'] = '../elsewhere.safetensors'; });
  assertFormatError(() => readShardedSafetensors(indexPath), ['points outside the folder'], 'a');

  edit(() => {});
  rmSync(join(dir, 'model-00003-of-00003.safetensors'));
  assertFormatError(() => readShardedSafetensors(indexPath), ["shard 'model-00003-of-00003.safetensors'", 'does not exist']);

  writeFileSync(indexPath, '{"weight_map": 3}');
  assertFormatError(() => readShardedSafetensors(indexPath), ['no "weight_map" object']);
});

test('a shard that is itself damaged is reported with its own file name', () => {
  const dir = scratchDir('shard-trunc');
  const t: Array<[string, Tensor]> = [['x', { shape: [4], data: new Float32Array(4) }]];
  writeSafetensors(join(dir, 'model-00001-of-00001.safetensors'), t);
  const bytes = readFileSync(join(dir, 'model-00001-of-00001.safetensors'));
  writeFileSync(join(dir, 'model-00001-of-00001.safetensors'), bytes.subarray(0, bytes.length - 1));
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 16 }, weight_map: { x: 'model-00001-of-00001.safetensors' } }));
  assertFormatError(() => readShardedSafetensors(join(dir, 'model.safetensors.index.json')), ['model-00001-of-00001.safetensors: truncated'], 'x');
});
