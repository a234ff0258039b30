// TensorFlow checkpoints in the TensorBundle (V2) format: PREFIX.index is an SSTable whose
// key "" holds a BundleHeaderProto {num_shards=1, endianness=2, version=3} and whose other keys
// are tensor names mapping to BundleEntryProto {dtype=1, shape=2, shard_id=3, offset=4,
// size=5, crc32c=6 (fixed32, masked CRC-32C of the bytes), slices=7}. The bytes live in
// PREFIX.data-SSSSS-of-NNNNN at [offset, offset + size).
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, isAbsolute, join } from 'node:path';
import { FormatError, UsageError } from '../errors.js';
import { crc32c, maskCrc32c } from './checksum.js';
import { decodeToFloat32, dtypeBytes, numel, type NumericDtype } from './dtype.js';
import { bytesFields, decodeMessage, fixed32Field, intField, messageField, ProtoError } from './protobuf.js';
import { RandomAccessFile } from './files.js';
import { readSSTable } from './sstable.js';
import type { Tensor, TensorMap } from './tensor.js';

/** TensorFlow DataType enum values we can read, and their names. */
const TF_DTYPES: Record<number, NumericDtype> = {
  1: 'float32', 2: 'float64', 3: 'int32', 4: 'uint8', 5: 'int16', 6: 'int8', 9: 'int64', 10: 'bool', 14: 'bfloat16', 19: 'float16',
};
const TF_DTYPE_NAMES: Record<number, string> = {
  1: 'DT_FLOAT', 2: 'DT_DOUBLE', 3: 'DT_INT32', 4: 'DT_UINT8', 5: 'DT_INT16', 6: 'DT_INT8', 7: 'DT_STRING', 8: 'DT_COMPLEX64',
  9: 'DT_INT64', 10: 'DT_BOOL', 14: 'DT_BFLOAT16', 17: 'DT_UINT16', 18: 'DT_COMPLEX128', 19: 'DT_HALF', 20: 'DT_RESOURCE',
  21: 'DT_VARIANT', 22: 'DT_UINT32', 23: 'DT_UINT64',
};

export interface TfBundleHeader {
  numShards: number;
  /** 0 = little-endian (the only one supported). */
  endianness: number;
  producer: number;
}

export interface TfTensorEntry {
  name: string;
  /** TF DataType enum value and name (DT_FLOAT...). */
  dtypeCode: number;
  dtypeName: string;
  /** Readable element type, or undefined for types we cannot read (strings, complex...). */
  dtype: NumericDtype | undefined;
  shape: number[];
  shardId: number;
  offset: number;
  size: number;
  /** The stored (masked) CRC-32C of the tensor's bytes. */
  crc32c: number;
}

/** Values in their stored type (ints stay exact); `readFloat32` converts. */
export type TfValues = Float32Array | Float64Array | Int32Array | BigInt64Array | Int16Array | Int8Array | Uint8Array;

function toSafeNumber(v: bigint, what: string): number {
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtoError(`${what} ${v} is out of range`);
  return Number(v);
}

/**
 * Finds the checkpoint prefix for `path`: the prefix itself, PREFIX.index, a data shard, or a
 * folder (its `checkpoint` state file's model_checkpoint_path, else its only *.index file).
 */
export function resolveTfCheckpointPrefix(path: string): string {
  if (existsSync(`${path}.index`)) return path;
  if (path.endsWith('.index') && existsSync(path)) return path.slice(0, -'.index'.length);
  const shard = /^(.*)\.data-\d{5}-of-\d{5}$/.exec(path);
  if (shard && existsSync(`${shard[1]}.index`)) return shard[1]!;
  if (existsSync(path) && statSync(path).isDirectory()) {
    const state = join(path, 'checkpoint');
    if (existsSync(state)) {
      const m = /^model_checkpoint_path:\s*"((?:[^"\\]|\\.)*)"/m.exec(readFileSync(state, 'utf8'));
      if (m) {
        const p = m[1]!.replace(/\\(.)/g, '$1');
        const prefix = isAbsolute(p) ? p : join(path, p);
        if (existsSync(`${prefix}.index`)) return prefix;
        // The state file may hold a path from another machine: try the name beside it.
        const local = join(path, basename(p));
        if (existsSync(`${local}.index`)) return local;
        throw new UsageError(`${state} names checkpoint '${p}', but ${prefix}.index does not exist`);
      }
    }
    const indexes = readdirSync(path).filter((n) => n.endsWith('.index'));
    if (indexes.length === 1) return join(path, indexes[0]!.slice(0, -'.index'.length));
    if (indexes.length > 1) {
      throw new UsageError(`${path} holds several checkpoints (${indexes.join(', ')}); name one, e.g. ${join(path, indexes[0]!.slice(0, -6))}`);
    }
    throw new UsageError(`${path} holds no TensorFlow checkpoint (no *.index file)`);
  }
  throw new UsageError(`no TensorFlow checkpoint at ${path} (expected ${path}.index and its .data-* files)`);
}

export class TfCheckpoint {
  readonly prefix: string;
  readonly indexPath: string;
  readonly header: TfBundleHeader;
  /** Entries in key (name) order. */
  readonly entries = new Map<string, TfTensorEntry>();
  private shards = new Map<number, RandomAccessFile>();

  /** Opens a checkpoint by prefix (or any path `resolveTfCheckpointPrefix` accepts). */
  constructor(path: string) {
    this.prefix = resolveTfCheckpointPrefix(path);
    this.indexPath = `${this.prefix}.index`;
    const file = this.indexPath;
    const table = readSSTable(file, new Uint8Array(readFileSync(file)));
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    let header: TfBundleHeader | undefined;
    for (const [keyBytes, value] of table) {
      let key: string;
      try {
        key = utf8.decode(keyBytes);
      } catch {
        throw new FormatError(file, 'a tensor name is not valid UTF-8');
      }
      try {
        if (key === '') {
          const f = decodeMessage(value);
          const version = messageField(f, 3);
          header = {
            numShards: Number(intField(f, 1)),
            endianness: Number(intField(f, 2)),
            producer: version ? Number(intField(version, 1)) : 0,
          };
          continue;
        }
        this.entries.set(key, this.decodeEntry(key, value));
      } catch (err) {
        if (err instanceof ProtoError) {
          throw new FormatError(file, `${key === '' ? 'the bundle header' : `the entry of tensor '${key}'`} is malformed: ${err.message}`, key || undefined);
        }
        throw err;
      }
    }
    if (!header) throw new FormatError(file, 'no BundleHeaderProto (empty key) in the index: not a TensorBundle checkpoint');
    if (header.endianness !== 0) throw new FormatError(file, 'big-endian checkpoints are not supported');
    if (header.numShards < 1) throw new FormatError(file, `bundle header says ${header.numShards} shards`);
    for (const e of this.entries.values()) {
      if (e.shardId >= header.numShards) {
        throw new FormatError(file, `tensor '${e.name}' is in shard ${e.shardId} but the bundle has ${header.numShards}`, e.name);
      }
    }
    this.header = header;
  }

  private decodeEntry(name: string, value: Uint8Array): TfTensorEntry {
    const file = this.indexPath;
    const f = decodeMessage(value);
    const dtypeCode = Number(intField(f, 1));
    const shapeMsg = messageField(f, 2);
    const shape: number[] = [];
    if (shapeMsg) {
      if (intField(shapeMsg, 3) !== 0n) throw new FormatError(file, `tensor '${name}' has unknown rank`, name);
      for (const dimBytes of bytesFields(shapeMsg, 2)) {
        const size = intField(decodeMessage(dimBytes), 1);
        shape.push(toSafeNumber(size, `dimension of '${name}'`));
      }
    }
    if (bytesFields(f, 7).length > 0) {
      throw new FormatError(file, `tensor '${name}' is partitioned (has slices), which is not supported`, name);
    }
    const crc = fixed32Field(f, 6);
    const entry: TfTensorEntry = {
      name,
      dtypeCode,
      dtypeName: TF_DTYPE_NAMES[dtypeCode] ?? `DataType ${dtypeCode}`,
      dtype: TF_DTYPES[dtypeCode],
      shape,
      shardId: toSafeNumber(intField(f, 3), `shard_id of '${name}'`),
      offset: toSafeNumber(intField(f, 4), `offset of '${name}'`),
      size: toSafeNumber(intField(f, 5), `size of '${name}'`),
      crc32c: crc ?? 0,
    };
    if (crc === undefined) throw new FormatError(file, `tensor '${name}' has no crc32c`, name);
    if (entry.dtype) {
      const want = numel(shape) * dtypeBytes[entry.dtype];
      if (want !== entry.size) {
        throw new FormatError(file, `tensor '${name}' has size ${entry.size} but shape [${shape.join(', ')}] ${entry.dtypeName} needs ${want} bytes`, name);
      }
    }
    return entry;
  }

  /** The data file for shard `id`. */
  dataPath(id: number): string {
    const pad = (n: number): string => String(n).padStart(5, '0');
    return `${this.prefix}.data-${pad(id)}-of-${pad(this.header.numShards)}`;
  }

  private shard(id: number, tensor: string): RandomAccessFile {
    let f = this.shards.get(id);
    if (!f) {
      const path = this.dataPath(id);
      if (!existsSync(path)) throw new FormatError(path, `data file is missing (needed for tensor '${tensor}')`, tensor);
      f = new RandomAccessFile(path);
      this.shards.set(id, f);
    }
    return f;
  }

  private entry(name: string): TfTensorEntry {
    const e = this.entries.get(name);
    if (!e) throw new FormatError(this.indexPath, `no tensor named '${name}' in the checkpoint`, name);
    return e;
  }

  /** The raw bytes of tensor `name`, after checking their CRC-32C against the index. */
  readBytes(name: string): Uint8Array {
    const e = this.entry(name);
    const f = this.shard(e.shardId, name);
    const bytes = f.read(e.offset, e.size, `tensor '${name}'`, name);
    const actual = maskCrc32c(crc32c(bytes));
    if (actual !== e.crc32c) {
      throw new FormatError(
        f.path,
        `CRC-32C mismatch for tensor '${name}' (bytes ${e.offset}..${e.offset + e.size}): index says 0x${e.crc32c.toString(16).padStart(8, '0')}, data gives 0x${actual.toString(16).padStart(8, '0')} (checkpoint damaged)`,
        name,
      );
    }
    return bytes;
  }

  private readable(name: string): TfTensorEntry & { dtype: NumericDtype } {
    const e = this.entry(name);
    if (!e.dtype) throw new FormatError(this.indexPath, `tensor '${name}' has type ${e.dtypeName}, which cannot be read`, name);
    return e as TfTensorEntry & { dtype: NumericDtype };
  }

  /** Tensor `name` converted to float32. */
  readFloat32(name: string): Tensor {
    const e = this.readable(name);
    return { shape: e.shape.slice(), data: decodeToFloat32(this.readBytes(name), e.dtype, numel(e.shape)) };
  }

  /** Tensor `name` in its stored type (float16/bfloat16 come back as float32). */
  readValues(name: string): { shape: number[]; dtype: NumericDtype; values: TfValues } {
    const e = this.readable(name);
    const bytes = this.readBytes(name);
    const buf = new ArrayBuffer(bytes.length);
    new Uint8Array(buf).set(bytes);
    let values: TfValues;
    switch (e.dtype) {
      case 'float64': values = new Float64Array(buf); break;
      case 'int64': values = new BigInt64Array(buf); break;
      case 'int32': values = new Int32Array(buf); break;
      case 'int16': values = new Int16Array(buf); break;
      case 'int8': values = new Int8Array(buf); break;
      case 'uint8': case 'bool': values = new Uint8Array(buf); break;
      default: values = decodeToFloat32(bytes, e.dtype, numel(e.shape));
    }
    return { shape: e.shape.slice(), dtype: e.dtype, values };
  }

  /** Reads every tensor once to check its CRC; throws on the first damaged one. */
  verify(): void {
    for (const name of this.entries.keys()) this.readBytes(name);
  }

  close(): void {
    for (const f of this.shards.values()) f.close();
    this.shards.clear();
  }
}

/** Reads a TF checkpoint's tensors (those `filter` accepts) as float32, CRC-checked. */
export function readTfCheckpoint(path: string, options: { filter?: (name: string) => boolean } = {}): TensorMap {
  const ckpt = new TfCheckpoint(path);
  try {
    const out: TensorMap = new Map();
    for (const name of ckpt.entries.keys()) {
      if (options.filter && !options.filter(name)) continue;
      out.set(name, ckpt.readFloat32(name));
    }
    return out;
  } finally {
    ckpt.close();
  }
}

