// Writes a TensorFlow checkpoint (TensorBundle V2, as tf.train.Saver writes it): <prefix>.index, an
// SSTable of BundleHeaderProto (empty key) and one BundleEntryProto per tensor in name order, and
// <prefix>.data-00000-of-00001 with the tensors' bytes back to back; plus the `checkpoint` state
// file that names the prefix. Uncompressed blocks, one data shard, little-endian.
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { crc32c, maskCrc32c } from './checksum.js';
import { writeFileAtomic, writeFolderAtomic } from './files.js';

/** A tensor to write: float32 values, or an int64 scalar (global_step). */
export type TfWriteTensor = { shape: number[]; data: Float32Array } | { shape: []; int64: bigint };

const DT_FLOAT = 1;
const DT_INT64 = 9;
const RESTART_INTERVAL = 16;
const BLOCK_BYTES = 4096;
const SSTABLE_MAGIC = 0xdb4775248b80fb57n;

function varint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

function lengthDelimited(out: number[], field: number, body: number[]): void {
  out.push((field << 3) | 2);
  varint(out, body.length);
  for (const b of body) out.push(b);
}

/** BundleEntryProto: dtype 1, shape 2 (TensorShapeProto: dim 2 { size 1 }), shard_id 3, offset 4, size 5, crc32c 6 (fixed32). */
function entryProto(dtype: number, shape: number[], offset: number, size: number, crc: number): number[] {
  const out: number[] = [0x08];
  varint(out, dtype);
  const shapeBody: number[] = [];
  for (const d of shape) {
    const dim: number[] = [0x08];
    varint(dim, d);
    lengthDelimited(shapeBody, 2, dim);
  }
  lengthDelimited(out, 2, shapeBody);
  // shard_id 0 is the default: omitted, as TensorFlow omits it.
  if (offset > 0) {
    out.push(0x20);
    varint(out, offset);
  }
  out.push(0x28);
  varint(out, size);
  out.push(0x35, crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24);
  return out;
}

/** BundleHeaderProto: num_shards 1, endianness LITTLE (default, omitted), version { producer 1 }. */
const HEADER_PROTO = [0x08, 0x01, 0x1a, 0x02, 0x08, 0x01];

/** One block of prefix-compressed entries with restart points every RESTART_INTERVAL entries. */
function buildBlock(entries: Array<[Uint8Array, Uint8Array | number[]]>): Uint8Array {
  const out: number[] = [];
  const restarts: number[] = [];
  let prev: Uint8Array = new Uint8Array(0);
  entries.forEach(([key, value], i) => {
    let shared = 0;
    if (i % RESTART_INTERVAL === 0) restarts.push(out.length);
    else while (shared < prev.length && shared < key.length && prev[shared] === key[shared]) shared++;
    varint(out, shared);
    varint(out, key.length - shared);
    varint(out, value.length);
    for (let k = shared; k < key.length; k++) out.push(key[k]!);
    for (const b of value) out.push(b);
    prev = key;
  });
  if (restarts.length === 0) restarts.push(0);
  const bytes = new Uint8Array(out.length + 4 * restarts.length + 4);
  bytes.set(out);
  const view = new DataView(bytes.buffer);
  restarts.forEach((r, k) => view.setUint32(out.length + 4 * k, r, true));
  view.setUint32(out.length + 4 * restarts.length, restarts.length, true);
  return bytes;
}

/** An SSTable of sorted (key, value) pairs. */
export function buildSSTable(entries: Array<[Uint8Array, Uint8Array | number[]]>): Uint8Array {
  const parts: Uint8Array[] = [];
  let offset = 0;
  const writeBlock = (contents: Uint8Array): [number, number] => {
    const trailer = new Uint8Array(5); // compression type 0, then the masked CRC of contents + type
    const crc = crc32c(trailer.subarray(0, 1), crc32c(contents));
    new DataView(trailer.buffer).setUint32(1, maskCrc32c(crc), true);
    const handle: [number, number] = [offset, contents.length];
    parts.push(contents, trailer);
    offset += contents.length + 5;
    return handle;
  };
  const index: Array<[Uint8Array, number[]]> = [];
  let pending: Array<[Uint8Array, Uint8Array | number[]]> = [];
  let pendingBytes = 0;
  const flush = (): void => {
    if (pending.length === 0) return;
    const [off, size] = writeBlock(buildBlock(pending));
    const handle: number[] = [];
    varint(handle, off);
    varint(handle, size);
    // The last key of the block is a valid separator (>= every key in it, < every key after).
    index.push([pending[pending.length - 1]![0], handle]);
    pending = [];
    pendingBytes = 0;
  };
  for (const e of entries) {
    pending.push(e);
    pendingBytes += e[0].length + e[1].length + 8;
    if (pendingBytes >= BLOCK_BYTES) flush();
  }
  flush();
  const [metaOff, metaSize] = writeBlock(buildBlock([]));
  const [indexOff, indexSize] = writeBlock(buildBlock(index));
  const footer = new Uint8Array(48);
  const handles: number[] = [];
  varint(handles, metaOff);
  varint(handles, metaSize);
  varint(handles, indexOff);
  varint(handles, indexSize);
  footer.set(handles);
  new DataView(footer.buffer).setBigUint64(40, SSTABLE_MAGIC, true);
  parts.push(footer);
  const total = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * Writes `<dir>/<name>.index`, `<dir>/<name>.data-00000-of-00001` and `<dir>/checkpoint` (naming
 * `<name>`), all at once: nothing appears in dir unless every file was written.
 */
export function writeTfCheckpoint(dir: string, name: string, tensors: Map<string, TfWriteTensor>): string[] {
  if (tensors.size === 0) throw new UsageError('no tensors to write');
  const keyed = [...tensors].map(([n, t]) => ({ name: n, key: Buffer.from(n, 'utf8'), t })).sort((a, b) => compareBytes(a.key, b.key));
  const dataParts: Uint8Array[] = [];
  const entries: Array<[Uint8Array, Uint8Array | number[]]> = [[new Uint8Array(0), HEADER_PROTO]];
  let offset = 0;
  for (const { name: n, key, t } of keyed) {
    let bytes: Uint8Array;
    let dtype: number;
    if ('int64' in t) {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigInt64(0, t.int64, true);
      bytes = b;
      dtype = DT_INT64;
    } else {
      const count = t.shape.reduce((a, d) => a * d, 1);
      if (count !== t.data.length) throw new UsageError(`tensor '${n}': shape [${t.shape.join(', ')}] needs ${count} values, has ${t.data.length}`);
      bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      dtype = DT_FLOAT;
    }
    entries.push([key, entryProto(dtype, t.shape, offset, bytes.length, maskCrc32c(crc32c(bytes)))]);
    dataParts.push(bytes);
    offset += bytes.length;
  }
  const index = buildSSTable(entries);
  return writeFolderAtomic(dir, (staging) => {
    writeFileAtomic(join(staging, `${name}.data-00000-of-00001`), dataParts);
    writeFileAtomic(join(staging, `${name}.index`), [index]);
    writeFileAtomic(join(staging, 'checkpoint'), [`model_checkpoint_path: "${name}"\nall_model_checkpoint_paths: "${name}"\n`]);
  });
}
