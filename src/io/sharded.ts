// Sharded weights as transformers writes them: model-00001-of-0000N.safetensors files plus
// model.safetensors.index.json = {"metadata": {"total_size": bytes}, "weight_map": {name: file}}.
// The same index layout serves pytorch_model.bin.index.json.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FormatError } from '../errors.js';
import { readSafetensors, safetensorsChunks, type ReadTensorsOptions, type SafetensorsContents } from './safetensors.js';
import { writeFileAtomic } from './files.js';
import { describeJsonError } from '../util/json.js';
import type { Tensor, TensorMap } from './tensor.js';

export interface ShardIndex {
  /** metadata.total_size when present (bytes of tensor data over all shards). */
  totalSize: number | undefined;
  /** Tensor name -> shard file name (relative to the index's folder). */
  weightMap: Map<string, string>;
}

/** Reads and checks a *.index.json file. */
export function readShardIndex(path: string): ShardIndex {
  let json: unknown;
  const text = readFileSync(path, 'utf8');
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new FormatError(path, `not a valid JSON shard index: invalid JSON at ${describeJsonError(text, err as Error)}`);
  }
  if (typeof json !== 'object' || json === null) throw new FormatError(path, 'shard index must be a JSON object');
  const { metadata, weight_map: weightMap } = json as Record<string, unknown>;
  if (typeof weightMap !== 'object' || weightMap === null || Array.isArray(weightMap)) {
    throw new FormatError(path, 'shard index has no "weight_map" object');
  }
  let totalSize: number | undefined;
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null) throw new FormatError(path, '"metadata" must be an object');
    const t = (metadata as Record<string, unknown>)['total_size'];
    if (t !== undefined) {
      if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0) {
        throw new FormatError(path, `metadata.total_size must be a non-negative integer, got ${JSON.stringify(t)}`);
      }
      totalSize = t;
    }
  }
  const map = new Map<string, string>();
  for (const [name, file] of Object.entries(weightMap as Record<string, unknown>)) {
    if (typeof file !== 'string' || file.length === 0) {
      throw new FormatError(path, `weight_map entry for tensor '${name}' must be a file name, got ${JSON.stringify(file)}`, name);
    }
    // Shards must sit beside the index: no paths that climb out of the folder.
    if (file !== basename(file) || file === '.' || file === '..') {
      throw new FormatError(path, `weight_map entry for tensor '${name}' points outside the folder: ${JSON.stringify(file)}`, name);
    }
    map.set(name, file);
  }
  return { totalSize, weightMap: map };
}

/** Groups shard files by the tensors the index puts in them. */
export function shardFiles(index: ShardIndex): Map<string, Set<string>> {
  const files = new Map<string, Set<string>>();
  for (const [name, file] of index.weightMap) {
    let names = files.get(file);
    if (!names) files.set(file, (names = new Set()));
    names.add(name);
  }
  return files;
}

/**
 * Reads every shard listed in a model.safetensors.index.json and checks that each shard holds
 * exactly the tensors the index assigns to it.
 */
export function readShardedSafetensors(indexPath: string, options: ReadTensorsOptions = {}): SafetensorsContents & { files: string[] } {
  const index = readShardIndex(indexPath);
  const dir = dirname(indexPath);
  const tensors: TensorMap = new Map();
  const dtypes = new Map<string, string>();
  const byFile = shardFiles(index);
  const files = [...byFile.keys()].sort();
  let metadata: Record<string, string> | undefined;
  for (const file of files) {
    const path = join(dir, file);
    if (!existsSync(path)) throw new FormatError(indexPath, `shard '${file}' listed in weight_map does not exist`);
    const expected = byFile.get(file)!;
    const shard = readSafetensors(path, {
      filter: (name) => {
        if (!expected.has(name)) {
          throw new FormatError(path, `tensor '${name}' is in this shard but weight_map ${index.weightMap.has(name) ? `puts it in '${index.weightMap.get(name)}'` : 'does not list it'}`, name);
        }
        return !options.filter || options.filter(name);
      },
    });
    for (const name of expected) {
      const wanted = !options.filter || options.filter(name);
      if (wanted && !shard.tensors.has(name)) {
        throw new FormatError(path, `tensor '${name}' is assigned to this shard by ${basename(indexPath)} but is not in it`, name);
      }
    }
    for (const [name, t] of shard.tensors) {
      tensors.set(name, t);
      dtypes.set(name, shard.dtypes.get(name)!);
    }
    metadata ??= shard.metadata;
  }
  return { metadata, tensors, dtypes, files };
}

/** Splits tensors into shards of at most `maxShardBytes` of float32 data (a bigger tensor gets a shard alone). */
export function planShards(tensors: Array<[string, Tensor]>, maxShardBytes: number): Array<Array<[string, Tensor]>> {
  if (!(maxShardBytes > 0)) throw new RangeError(`maxShardBytes must be positive, got ${maxShardBytes}`);
  const shards: Array<Array<[string, Tensor]>> = [];
  let current: Array<[string, Tensor]> = [];
  let currentBytes = 0;
  for (const entry of tensors) {
    const bytes = entry[1].data.length * 4;
    if (bytes > maxShardBytes) {
      shards.push([entry]);
      continue;
    }
    if (currentBytes + bytes > maxShardBytes && current.length > 0) {
      shards.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(entry);
    currentBytes += bytes;
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);
  return shards;
}

/** transformers' default max_shard_size ("5GB", decimal). */
export const DEFAULT_MAX_SHARD_BYTES = 5_000_000_000;

/**
 * Writes `tensors` into `dir` as model.safetensors, or, when they exceed `maxShardBytes`, as
 * model-0000i-of-0000n.safetensors shards plus model.safetensors.index.json. Each file is written
 * atomically; returns the file names written.
 */
export function writeSafetensorsWeights(
  dir: string, tensors: TensorMap, maxShardBytes = DEFAULT_MAX_SHARD_BYTES, metadata: Record<string, string> = { format: 'pt' },
): string[] {
  const entries = [...tensors];
  const shards = planShards(entries, maxShardBytes);
  if (shards.length === 1) {
    writeFileAtomic(join(dir, 'model.safetensors'), safetensorsChunks(entries, metadata));
    return ['model.safetensors'];
  }
  const n = shards.length;
  const pad = (i: number): string => String(i).padStart(5, '0');
  const weightMap: Record<string, string> = {};
  const written: string[] = [];
  let totalSize = 0;
  shards.forEach((shard, i) => {
    const file = `model-${pad(i + 1)}-of-${pad(n)}.safetensors`;
    writeFileAtomic(join(dir, file), safetensorsChunks(shard, metadata));
    written.push(file);
    for (const [name, t] of shard) {
      weightMap[name] = file;
      totalSize += t.data.length * 4;
    }
  });
  const sortedMap = Object.fromEntries(Object.entries(weightMap).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const index = { metadata: { total_size: totalSize }, weight_map: sortedMap };
  writeFileAtomic(join(dir, 'model.safetensors.index.json'), [JSON.stringify(index, null, 2) + '\n']);
  written.push('model.safetensors.index.json');
  return written;
}
