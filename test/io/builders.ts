// Test-side writers for the formats the readers take apart: TensorBundle checkpoints (SSTable
// index + data shard, with CRCs), snappy blocks, pickles and PyTorch zip checkpoints. They follow
// the published layouts, independent of the readers' code, so a test can make any file it needs
// (including broken ones).
import { deflateRawSync } from 'node:zlib';
import { crc32, crc32c, maskCrc32c } from '../../src/io/checksum.js';

// ---------- bytes ----------

export class ByteWriter {
  private chunks: number[] = [];
  u8(v: number): this { this.chunks.push(v & 0xff); return this; }
  u16(v: number): this { return this.u8(v).u8(v >>> 8); }
  u32(v: number): this { return this.u16(v & 0xffff).u16(v >>> 16); }
  u64(v: number | bigint): this {
    const b = BigInt(v);
    return this.u32(Number(b & 0xffffffffn)).u32(Number(b >> 32n));
  }
  bytes(b: Uint8Array | number[]): this { for (const x of b) this.chunks.push(x); return this; }
  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      const byte = Number(x & 0x7fn);
      x >>= 7n;
      this.u8(x > 0n ? byte | 0x80 : byte);
    } while (x > 0n);
    return this;
  }
  get length(): number { return this.chunks.length; }
  finish(): Uint8Array { return Uint8Array.from(this.chunks); }
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

// ---------- protobuf ----------

/** Encodes proto fields in the order given; proto3 default values should simply be left out. */
export function proto(fields: Array<[number, 'varint', number | bigint] | [number, 'bytes', Uint8Array] | [number, 'fixed32', number]>): Uint8Array {
  const w = new ByteWriter();
  for (const [n, kind, v] of fields) {
    if (kind === 'varint') w.varint((n << 3) | 0).varint(v as number | bigint);
    else if (kind === 'bytes') w.varint((n << 3) | 2).varint((v as Uint8Array).length).bytes(v as Uint8Array);
    else w.varint((n << 3) | 5).u32(v as number);
  }
  return w.finish();
}

// ---------- snappy ----------

/** A valid (greedy, hash-based) snappy compressor: literals plus 2-byte-offset copies. */
export function snappyCompress(src: Uint8Array): Uint8Array {
  const w = new ByteWriter();
  w.varint(src.length);
  const literal = (from: number, to: number): void => {
    let start = from;
    while (start < to) {
      const n = Math.min(to - start, 65536);
      if (n <= 60) w.u8((n - 1) << 2);
      else if (n <= 256) w.u8(60 << 2).u8(n - 1);
      else w.u8(61 << 2).u16(n - 1);
      w.bytes(src.subarray(start, start + n));
      start += n;
    }
  };
  const table = new Map<number, number>();
  let i = 0;
  let pending = 0;
  while (i + 4 <= src.length) {
    const key = src[i]! | (src[i + 1]! << 8) | (src[i + 2]! << 16) | (src[i + 3]! << 24);
    const cand = table.get(key);
    table.set(key, i);
    if (cand !== undefined && i - cand <= 65535) {
      let len = 4;
      while (i + len < src.length && src[cand + len] === src[i + len] && len < 64) len++;
      literal(pending, i);
      w.u8(((len - 1) << 2) | 2).u16(i - cand);
      i += len;
      pending = i;
    } else {
      i++;
    }
  }
  literal(pending, src.length);
  return w.finish();
}

// ---------- SSTable / TensorBundle ----------

export interface SSTableOptions {
  /** Start a new data block once a block's entries exceed this many bytes. */
  blockSize?: number;
  restartInterval?: number;
  compression?: 'none' | 'snappy';
}

function buildBlock(entries: Array<[Uint8Array, Uint8Array]>, restartInterval: number): Uint8Array {
  const w = new ByteWriter();
  const restarts: number[] = [];
  let prev: Uint8Array = new Uint8Array(0);
  entries.forEach(([key, value], i) => {
    let shared = 0;
    if (i % restartInterval === 0) restarts.push(w.length);
    else while (shared < prev.length && shared < key.length && prev[shared] === key[shared]) shared++;
    w.varint(shared).varint(key.length - shared).varint(value.length).bytes(key.subarray(shared)).bytes(value);
    prev = key;
  });
  if (restarts.length === 0) restarts.push(0);
  for (const r of restarts) w.u32(r);
  w.u32(restarts.length);
  return w.finish();
}

/** LevelDB's FindShortestSeparator: a short key k with start <= k < limit. */
function shortestSeparator(start: Uint8Array, limit: Uint8Array): Uint8Array {
  let diff = 0;
  while (diff < start.length && diff < limit.length && start[diff] === limit[diff]) diff++;
  if (diff < start.length && diff < limit.length && start[diff]! < 0xff && start[diff]! + 1 < limit[diff]!) {
    const k = start.slice(0, diff + 1);
    k[diff]!++;
    return k;
  }
  return start;
}

/** LevelDB's FindShortSuccessor: a short key k >= key. */
function shortSuccessor(key: Uint8Array): Uint8Array {
  for (let i = 0; i < key.length; i++) {
    if (key[i] !== 0xff) {
      const k = key.slice(0, i + 1);
      k[i]!++;
      return k;
    }
  }
  return key;
}

/**
 * An SSTable of sorted (key, value) pairs: data blocks, empty metaindex, index block, footer,
 * laid out as LevelDB's (and TensorFlow's) table builder does, separators included.
 */
export function buildSSTable(entries: Array<[Uint8Array, Uint8Array]>, options: SSTableOptions = {}): Uint8Array {
  const blockSize = options.blockSize ?? 4096;
  const restartInterval = options.restartInterval ?? 16;
  const out = new ByteWriter();
  const writeBlock = (contents: Uint8Array, compress: boolean): [number, number] => {
    const body = compress && options.compression === 'snappy' ? snappyCompress(contents) : contents;
    const type = compress && options.compression === 'snappy' ? 1 : 0;
    const offset = out.length;
    out.bytes(body).u8(type);
    const withType = new Uint8Array(body.length + 1);
    withType.set(body);
    withType[body.length] = type;
    out.u32(maskCrc32c(crc32c(withType)));
    return [offset, body.length];
  };
  const index: Array<[Uint8Array, Uint8Array]> = [];
  let block: Array<[Uint8Array, Uint8Array]> = [];
  let size = 0;
  let pendingHandle: Uint8Array | undefined;
  let lastKey: Uint8Array = new Uint8Array(0);
  const flush = (): void => {
    if (block.length === 0) return;
    const [offset, len] = writeBlock(buildBlock(block, restartInterval), true);
    pendingHandle = new ByteWriter().varint(offset).varint(len).finish();
    block = [];
    size = 0;
  };
  for (const e of entries) {
    // The index entry of a finished block is written once the next key is known.
    if (pendingHandle) {
      index.push([shortestSeparator(lastKey, e[0]), pendingHandle]);
      pendingHandle = undefined;
    }
    block.push(e);
    lastKey = e[0];
    size += e[0].length + e[1].length + 3;
    if (size >= blockSize) flush();
  }
  flush();
  if (pendingHandle) index.push([shortSuccessor(lastKey), pendingHandle]);
  const meta = writeBlock(buildBlock([], restartInterval), false);
  const idx = writeBlock(buildBlock(index, 1), false);
  const footer = new ByteWriter().varint(meta[0]).varint(meta[1]).varint(idx[0]).varint(idx[1]);
  while (footer.length < 40) footer.u8(0);
  footer.u64(0xdb4775248b80fb57n);
  out.bytes(footer.finish());
  return out.finish();
}

export type BundleDtype = 'float32' | 'float16' | 'bfloat16' | 'int32' | 'int64' | 'float64';
const DT: Record<BundleDtype, number> = { float32: 1, float64: 2, int32: 3, int64: 9, bfloat16: 14, float16: 19 };

export interface BundleTensor {
  name: string;
  dtype: BundleDtype;
  shape: number[];
  bytes: Uint8Array;
}

/** A TensorBundle (one shard): { index, data } for PREFIX.index and PREFIX.data-00000-of-00001. */
export function buildTensorBundle(tensors: BundleTensor[], options: SSTableOptions = {}): { index: Uint8Array; data: Uint8Array } {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const data = new ByteWriter();
  const entries: Array<[Uint8Array, Uint8Array]> = [];
  // BundleHeaderProto: num_shards 1, endianness LITTLE (0, omitted), version { producer 1 }.
  entries.push([new Uint8Array(0), proto([[1, 'varint', 1], [3, 'bytes', proto([[1, 'varint', 1]])]])]);
  for (const t of sorted) {
    const offset = data.length;
    data.bytes(t.bytes);
    const shape = proto(t.shape.map((d) => [2, 'bytes', proto(d === 0 ? [] : [[1, 'varint', d]])] as [number, 'bytes', Uint8Array]));
    const fields: Parameters<typeof proto>[0] = [[1, 'varint', DT[t.dtype]], [2, 'bytes', shape]];
    if (offset > 0) fields.push([4, 'varint', offset]);
    if (t.bytes.length > 0) fields.push([5, 'varint', t.bytes.length]);
    fields.push([6, 'fixed32', maskCrc32c(crc32c(t.bytes))]);
    entries.push([utf8(t.name), proto(fields)]);
  }
  return { index: buildSSTable(entries, options), data: data.finish() };
}

export function f32Bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

// ---------- pickle ----------

/** Emits pickle opcodes (protocol 2 unless told otherwise), with a memo like CPython's. */
export class PickleWriter {
  readonly w = new ByteWriter();
  private memoCount = 0;
  private globals = new Map<string, number>();
  constructor(protocol = 2) { this.w.u8(0x80).u8(protocol); }
  op(code: number): this { this.w.u8(code); return this; }
  mark(): this { return this.op(0x28); }
  put(): number { const i = this.memoCount++; this.w.u8(0x71).u8(i); return i; }
  get(i: number): this { this.w.u8(0x68).u8(i); return this; }
  global(module: string, name: string): this {
    const key = `${module}\n${name}`;
    const memo = this.globals.get(key);
    if (memo !== undefined) return this.get(memo);
    this.w.u8(0x63).bytes(utf8(`${module}\n${name}\n`));
    this.globals.set(key, this.put());
    return this;
  }
  str(s: string): this { const b = utf8(s); this.w.u8(0x58).u32(b.length).bytes(b); return this; }
  int(v: number): this {
    if (v >= 0 && v < 256) this.w.u8(0x4b).u8(v);
    else if (v >= 0 && v < 65536) this.w.u8(0x4d).u16(v);
    else if (v >= -(2 ** 31) && v < 2 ** 31) this.w.u8(0x4a).u32(v >>> 0);
    else {
      // LONG1: minimal two's-complement little-endian.
      let x = BigInt(v);
      const bytes: number[] = [];
      while (true) {
        bytes.push(Number(BigInt.asUintN(8, x)));
        x >>= 8n;
        if ((x === 0n && (bytes[bytes.length - 1]! & 0x80) === 0) || (x === -1n && (bytes[bytes.length - 1]! & 0x80) !== 0)) break;
      }
      this.w.u8(0x8a).u8(bytes.length).bytes(bytes);
    }
    return this;
  }
  bool(v: boolean): this { return this.op(v ? 0x88 : 0x89); }
  none(): this { return this.op(0x4e); }
  /** A tuple of ints (sizes, strides). */
  intTuple(values: number[]): this {
    if (values.length === 0) return this.op(0x29);
    if (values.length <= 3) { values.forEach((v) => this.int(v)); return this.op(0x84 + values.length); }
    this.mark();
    values.forEach((v) => this.int(v));
    return this.op(0x74);
  }
  emptyTuple(): this { return this.op(0x29); }
  tupleFromMark(): this { return this.op(0x74); }
  reduce(): this { return this.op(0x52); }
  build(): this { return this.op(0x62); }
  emptyDict(): this { return this.op(0x7d); }
  setitems(): this { return this.op(0x75); }
  binpersid(): this { return this.op(0x51); }
  stop(): Uint8Array { this.op(0x2e); return this.w.finish(); }
}

export type StorageClass = 'FloatStorage' | 'HalfStorage' | 'BFloat16Storage' | 'DoubleStorage' | 'LongStorage';

export interface TorchTensorSpec {
  name: string;
  storageKey: string;
  storageClass: StorageClass;
  /** Elements in the storage. */
  storageNumel: number;
  offset: number;
  size: number[];
  stride: number[];
  /** Pickle as an nn.Parameter (via _rebuild_parameter). */
  parameter?: boolean;
}

/** data.pkl of a state dict, as torch.save writes it (OrderedDict, _metadata via BUILD). */
export function pickleStateDict(tensors: TorchTensorSpec[], extra?: (p: PickleWriter) => void): Uint8Array {
  const p = new PickleWriter(2);
  p.global('collections', 'OrderedDict').emptyTuple().reduce();
  p.put();
  p.mark();
  for (const t of tensors) {
    p.str(t.name);
    p.put();
    if (t.parameter) p.global('torch._utils', '_rebuild_parameter');
    p.global('torch._utils', '_rebuild_tensor_v2');
    p.mark();
    p.mark().str('storage').global('torch', t.storageClass).str(t.storageKey).str('cpu').int(t.storageNumel).tupleFromMark();
    p.binpersid();
    p.int(t.offset).intTuple(t.size).intTuple(t.stride).bool(false);
    p.global('collections', 'OrderedDict').emptyTuple().reduce();
    p.tupleFromMark().reduce();
    if (t.parameter) {
      p.bool(true).global('collections', 'OrderedDict').emptyTuple().reduce();
      p.op(0x87).reduce(); // TUPLE3 (tensor, requires_grad, hooks)
    }
    p.put();
  }
  extra?.(p);
  p.setitems();
  // state: {'_metadata': OrderedDict({'': {'version': 1}})}
  p.emptyDict().str('_metadata').global('collections', 'OrderedDict').emptyTuple().reduce();
  p.mark().str('').emptyDict().str('version').int(1).op(0x73).setitems();
  p.op(0x73).build();
  return p.stop();
}

// ---------- zip ----------

export interface ZipInput {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
  /** Hostile archives: the entry's bytes as written (instead of `data`, deflated or not), and the size and CRC its headers declare. */
  raw?: { body: Uint8Array; size: number; crc: number };
}

/**
 * A zip archive. Stored entries' data is aligned to 64 bytes with a padding extra field, as
 * torch's writer does; `zip64` writes zip64 sizes/offsets (records and extra fields) for every entry.
 */
export function buildZip(entries: ZipInput[], options: { zip64?: boolean } = {}): Uint8Array {
  const out = new ByteWriter();
  const central = new ByteWriter();
  const zip64 = options.zip64 ?? false;
  for (const e of entries) {
    const name = utf8(e.name);
    const body = e.raw?.body ?? (e.deflate ? new Uint8Array(deflateRawSync(e.data)) : e.data);
    const crc = e.raw?.crc ?? crc32(e.data);
    const size = e.raw?.size ?? e.data.length;
    const offset = out.length;
    const headerEnd = offset + 30 + name.length;
    let pad = e.deflate ? 0 : (64 - ((headerEnd + 4) % 64)) % 64;
    const localExtra = new ByteWriter();
    if (zip64) {
      localExtra.u16(0x0001).u16(16).u64(size).u64(body.length);
      pad = 0;
    }
    if (!e.deflate) localExtra.u16(0x4246).u16(pad).bytes(new Array(pad).fill(0x5a));
    const le = localExtra.finish();
    out.u32(0x04034b50).u16(zip64 ? 45 : 20).u16(0).u16(e.deflate ? 8 : 0).u16(0).u16(0).u32(crc);
    out.u32(zip64 ? 0xffffffff : body.length).u32(zip64 ? 0xffffffff : size);
    out.u16(name.length).u16(le.length).bytes(name).bytes(le).bytes(body);
    const ce = zip64 ? new ByteWriter().u16(0x0001).u16(24).u64(size).u64(body.length).u64(offset).finish() : new Uint8Array(0);
    central.u32(0x02014b50).u16(zip64 ? 45 : 20).u16(zip64 ? 45 : 20).u16(0).u16(e.deflate ? 8 : 0).u16(0).u16(0).u32(crc);
    central.u32(zip64 ? 0xffffffff : body.length).u32(zip64 ? 0xffffffff : size);
    central.u16(name.length).u16(ce.length).u16(0).u16(0).u16(0).u32(0).u32(zip64 ? 0xffffffff : offset);
    central.bytes(name).bytes(ce);
  }
  const cdOffset = out.length;
  const cd = central.finish();
  out.bytes(cd);
  if (zip64) {
    const recOffset = out.length;
    out.u32(0x06064b50).u64(44).u16(45).u16(45).u32(0).u32(0).u64(entries.length).u64(entries.length).u64(cd.length).u64(cdOffset);
    out.u32(0x07064b50).u32(0).u64(recOffset).u32(1);
    out.u32(0x06054b50).u16(0).u16(0).u16(0xffff).u16(0xffff).u32(0xffffffff).u32(0xffffffff).u16(0);
  } else {
    out.u32(0x06054b50).u16(0).u16(0).u16(entries.length).u16(entries.length).u32(cd.length).u32(cdOffset).u16(0);
  }
  return out.finish();
}

/** A pytorch_model.bin: the pickle plus one data/<key> entry per storage. */
export function buildTorchCheckpoint(
  tensors: TorchTensorSpec[], storages: Map<string, Uint8Array>,
  options: { archive?: string; deflate?: boolean; zip64?: boolean; pickle?: Uint8Array } = {},
): Uint8Array {
  const archive = options.archive ?? 'archive';
  const entries: ZipInput[] = [
    { name: `${archive}/data.pkl`, data: options.pickle ?? pickleStateDict(tensors), deflate: options.deflate ?? false },
    { name: `${archive}/byteorder`, data: utf8('little') },
  ];
  for (const [key, data] of storages) entries.push({ name: `${archive}/data/${key}`, data, deflate: options.deflate ?? false });
  entries.push({ name: `${archive}/version`, data: utf8('3\n') });
  return buildZip(entries, { zip64: options.zip64 ?? false });
}
