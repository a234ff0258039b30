// TFRecord files (TensorFlow's record framing) and the tf.train.Example messages of int64 features
// that google-research/electra's data builders write. Framing per record: uint64 LE payload length,
// masked CRC-32C of those 8 bytes, the payload, masked CRC-32C of the payload.
import { closeSync, openSync, readSync } from 'node:fs';
import { FormatError } from '../errors.js';
import { crc32c, maskCrc32c, unmaskCrc32c } from './checksum.js';

/** Bytes of framing around each payload. */
export const TFRECORD_OVERHEAD = 16;

/** The framed record for one payload. */
export function frameTfRecord(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(payload.length + TFRECORD_OVERHEAD);
  out.writeBigUInt64LE(BigInt(payload.length), 0);
  out.writeUInt32LE(maskCrc32c(crc32c(out.subarray(0, 8))), 8);
  out.set(payload, 12);
  out.writeUInt32LE(maskCrc32c(crc32c(payload)), 12 + payload.length);
  return out;
}

/** Where one record's payload lies in its file. */
export interface TfRecordLocation {
  /** File offset of the payload. */
  offset: number;
  length: number;
}

const SCAN_CHUNK = 1 << 20;

/**
 * Reads every record of `file` in order, checking both CRCs of each; `onRecord` gets the payload
 * (valid only during the call), its index and location. A bad or cut-off record is named by index.
 */
export function scanTfRecords(file: string, onRecord: (payload: Uint8Array, index: number, location: TfRecordLocation) => void): number {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new FormatError(file, `cannot open: ${(e as Error).message}`);
  }
  let buf = Buffer.allocUnsafe(SCAN_CHUNK);
  let start = 0; // buffer offset of the first unconsumed byte
  let end = 0;
  let filePos = 0; // file offset of buf[0]
  let eof = false;
  // Makes buf[start, start + need) available; false at a clean end of file.
  const fill = (need: number): boolean => {
    if (end - start >= need) return true;
    if (start > 0) {
      buf.copy(buf, 0, start, end);
      filePos += start;
      end -= start;
      start = 0;
    }
    if (need > buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, 2 * buf.length));
      buf.copy(bigger, 0, 0, end);
      buf = bigger;
    }
    while (end < need && !eof) {
      const n = readSync(fd, buf, end, buf.length - end, filePos + end);
      if (n === 0) eof = true;
      end += n;
    }
    return end >= need;
  };
  let index = 0;
  try {
    for (;;) {
      if (!fill(1)) return index;
      const at = filePos + start;
      if (!fill(12)) throw new FormatError(file, `record ${index} (byte ${at}): cut off in its 12-byte length header`);
      const lengthCrc = buf.readUInt32LE(start + 8);
      if (maskCrc32c(crc32c(buf.subarray(start, start + 8))) !== lengthCrc) {
        throw new FormatError(file, `record ${index} (byte ${at}): length CRC mismatch (stored ${hex(unmaskCrc32c(lengthCrc))}); not a TFRecord file, or corrupt`);
      }
      const big = buf.readBigUInt64LE(start);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(file, `record ${index} (byte ${at}): length ${big} is impossible`);
      const length = Number(big);
      if (!fill(length + TFRECORD_OVERHEAD)) {
        throw new FormatError(file, `record ${index} (byte ${at}): truncated, its ${length}-byte payload and CRC run past the end of the file`);
      }
      const payload = buf.subarray(start + 12, start + 12 + length);
      const dataCrc = buf.readUInt32LE(start + 12 + length);
      if (maskCrc32c(crc32c(payload)) !== dataCrc) {
        throw new FormatError(file, `record ${index} (byte ${at}): payload CRC mismatch, expected ${hex(unmaskCrc32c(dataCrc))}, computed ${hex(crc32c(payload))} (corrupt)`);
      }
      onRecord(payload, index, { offset: at + 12, length });
      start += length + TFRECORD_OVERHEAD;
      index++;
    }
  } finally {
    closeSync(fd);
  }
}

/** One record's payload read at a known location (from scanTfRecords), its CRC checked again. */
export function readTfRecordAt(fd: number, file: string, index: number, loc: TfRecordLocation, into?: Buffer): Buffer {
  const need = loc.length + 4;
  const buf = into && into.length >= need ? into : Buffer.allocUnsafe(need);
  let done = 0;
  while (done < need) {
    const n = readSync(fd, buf, done, need - done, loc.offset + done);
    if (n === 0) throw new FormatError(file, `record ${index}: file ended early (changed since it was opened?)`);
    done += n;
  }
  const payload = buf.subarray(0, loc.length);
  if (maskCrc32c(crc32c(payload)) !== buf.readUInt32LE(loc.length)) throw new FormatError(file, `record ${index}: payload CRC mismatch (changed since it was opened?)`);
  return payload;
}

function hex(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

// ---- tf.train.Example with int64 features ----
// Example { Features features = 1 }  Features { map<string, Feature> feature = 1 }
// Feature { oneof { BytesList bytes_list = 1; FloatList float_list = 2; Int64List int64_list = 3 } }
// Int64List { repeated int64 value = 1 [packed] }

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Writes a non-negative integer below 2^53 as a varint; returns the next position. */
function putVarint(out: Uint8Array, pos: number, v: number): number {
  while (v >= 0x80) {
    out[pos++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  out[pos++] = v;
  return pos;
}

/** The varint of a signed int64 value (negative ones take 10 bytes, two's complement). */
function int64Varint(v: number): number[] {
  let x = BigInt.asUintN(64, BigInt(v));
  const bytes: number[] = [];
  while (x >= 0x80n) {
    bytes.push(Number(x & 0x7fn) | 0x80);
    x >>= 7n;
  }
  bytes.push(Number(x));
  return bytes;
}

/** A tf.train.Example of int64 list features, keys in the given order, values packed. */
export function encodeInt64Example(features: ReadonlyArray<readonly [string, ArrayLike<number>]>): Uint8Array {
  const entries = features.map(([key, values]) => {
    const keyBytes = Buffer.from(key, 'utf8');
    let packedLen = 0;
    let negative = false;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isSafeInteger(v)) throw new RangeError(`feature ${key}: value ${v} is not an integer`);
      if (v < 0) negative = true;
      packedLen += v < 0 ? 10 : varintSize(v);
    }
    const list = 1 + varintSize(packedLen) + packedLen; // Int64List: field 1, packed
    const feature = 1 + varintSize(list) + list; // Feature: field 3
    const entry = 1 + varintSize(keyBytes.length) + keyBytes.length + 1 + varintSize(feature) + feature;
    return { keyBytes, values, packedLen, list, feature, entry, negative };
  });
  const featuresLen = entries.reduce((s, e) => s + 1 + varintSize(e.entry) + e.entry, 0);
  const out = new Uint8Array(1 + varintSize(featuresLen) + featuresLen);
  let p = 0;
  out[p++] = 0x0a;
  p = putVarint(out, p, featuresLen);
  for (const e of entries) {
    out[p++] = 0x0a; // Features.feature (map entry)
    p = putVarint(out, p, e.entry);
    out[p++] = 0x0a; // key
    p = putVarint(out, p, e.keyBytes.length);
    out.set(e.keyBytes, p);
    p += e.keyBytes.length;
    out[p++] = 0x12; // value: Feature
    p = putVarint(out, p, e.feature);
    out[p++] = 0x1a; // int64_list
    p = putVarint(out, p, e.list);
    out[p++] = 0x0a; // value, packed
    p = putVarint(out, p, e.packedLen);
    for (let i = 0; i < e.values.length; i++) {
      const v = e.values[i]!;
      if (v >= 0) p = putVarint(out, p, v);
      else for (const b of int64Varint(v)) out[p++] = b;
    }
  }
  return out;
}

class ExampleError extends Error {}

/** Reads a varint as a JS number (exact below 2^53; int64 values at or above that are refused). */
function getVarint(bytes: Uint8Array, pos: number, end: number): [number, number] {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new ExampleError('truncated varint');
    const b = bytes[pos++]!;
    if (i < 7) {
      result += (b & 0x7f) * scale;
      scale *= 128;
    } else if ((b & 0x7f) !== 0) {
      // Values of 2^49 and more, and negative int64s (whose top bits are all set): exact in bigint.
      return getNegativeOrHuge(bytes, pos - i - 1, end);
    }
    if ((b & 0x80) === 0) return [result, pos];
  }
  throw new ExampleError('varint longer than 10 bytes');
}

function getNegativeOrHuge(bytes: Uint8Array, pos: number, end: number): [number, number] {
  let x = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new ExampleError('truncated varint');
    const b = bytes[pos++]!;
    x |= BigInt(b & 0x7f) << shift;
    shift += 7n;
    if ((b & 0x80) === 0) {
      const v = BigInt.asIntN(64, x);
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new ExampleError(`int64 value ${v} is out of range`);
      return [Number(v), pos];
    }
  }
  throw new ExampleError('varint longer than 10 bytes');
}

/** Skips one field of wire type `wire` at pos. */
function skipField(bytes: Uint8Array, pos: number, end: number, wire: number): number {
  if (wire === 0) return getVarint(bytes, pos, end)[1];
  if (wire === 1) pos += 8;
  else if (wire === 5) pos += 4;
  else if (wire === 2) {
    const [len, p] = getVarint(bytes, pos, end);
    pos = p + len;
  } else throw new ExampleError(`unsupported wire type ${wire}`);
  if (pos > end) throw new ExampleError('field runs past its message');
  return pos;
}

/**
 * Decodes a tf.train.Example; `onInt64` gets each int64 feature's values (packed or not, in any
 * field order). Bytes and float features are refused with their name. The values array is reused
 * between calls. Returns the feature names in wire order.
 */
export function decodeInt64Example(bytes: Uint8Array, onInt64: (name: string, values: Float64Array, count: number) => void): string[] {
  const names: string[] = [];
  try {
    // Example.features (field 1), then Features.feature entries (field 1 each).
    eachField1(bytes, 0, bytes.length, 'features', (s, e) => eachField1(bytes, s, e, 'feature entry', (q, entryEnd) => decodeEntry(bytes, q, entryEnd, names, onInt64)));
  } catch (e) {
    if (e instanceof ExampleError) throw new Error(`not a valid tf.train.Example: ${e.message}`);
    throw e;
  }
  return names;
}

/** Calls fn(start, end) for every length-delimited field 1 in bytes[pos, end), skipping other fields. */
function eachField1(bytes: Uint8Array, pos: number, end: number, what: string, fn: (start: number, end: number) => void): void {
  while (pos < end) {
    const [tag, p] = getVarint(bytes, pos, end);
    pos = p;
    if (tag !== 0x0a) {
      pos = skipField(bytes, pos, end, tag & 7);
      continue;
    }
    const [len, q] = getVarint(bytes, pos, end);
    if (q + len > end) throw new ExampleError(`${what} runs past its message`);
    fn(q, q + len);
    pos = q + len;
  }
}

let valueScratch = new Float64Array(512);

function decodeEntry(bytes: Uint8Array, pos: number, entryEnd: number, names: string[], onInt64: (name: string, values: Float64Array, count: number) => void): void {
  let name = '';
  let count = 0;
  let kind = 0; // 0 none, 1 bytes, 2 float, 3 int64
  while (pos < entryEnd) {
    const [t, r] = getVarint(bytes, pos, entryEnd);
    pos = r;
    if (t === 0x0a) {
      const [kl, s] = getVarint(bytes, pos, entryEnd);
      if (s + kl > entryEnd) throw new ExampleError('feature name runs past its entry');
      name = Buffer.from(bytes.buffer, bytes.byteOffset + s, kl).toString('utf8');
      pos = s + kl;
    } else if (t === 0x12) {
      const [fl, s] = getVarint(bytes, pos, entryEnd);
      const fEnd = s + fl;
      if (fEnd > entryEnd) throw new ExampleError('feature value runs past its entry');
      pos = s;
      count = 0;
      while (pos < fEnd) {
        const [ft, u] = getVarint(bytes, pos, fEnd);
        pos = u;
        const field = Math.floor(ft / 8);
        if ((ft & 7) !== 2 || field < 1 || field > 3) {
          pos = skipField(bytes, pos, fEnd, ft & 7);
          continue;
        }
        kind = field;
        const [ll, v] = getVarint(bytes, pos, fEnd);
        const lEnd = v + ll;
        if (lEnd > fEnd) throw new ExampleError('value list runs past its feature');
        pos = v;
        if (field === 3) count = readInt64List(bytes, pos, lEnd, count);
        pos = lEnd;
      }
    } else {
      pos = skipField(bytes, pos, entryEnd, t & 7);
    }
  }
  if (kind === 1 || kind === 2) throw new ExampleError(`feature '${name}' is a ${kind === 1 ? 'bytes' : 'float'} list; expected int64`);
  names.push(name);
  onInt64(name, valueScratch, count);
}

function pushValue(count: number, v: number): number {
  if (count === valueScratch.length) {
    const bigger = new Float64Array(2 * count);
    bigger.set(valueScratch);
    valueScratch = bigger;
  }
  valueScratch[count] = v;
  return count + 1;
}

/** Int64List: field 1, packed (wire 2) or one varint per value (wire 0), possibly mixed. */
function readInt64List(bytes: Uint8Array, pos: number, end: number, count: number): number {
  while (pos < end) {
    const [t, p] = getVarint(bytes, pos, end);
    pos = p;
    if (t === 0x08) {
      const [v, q] = getVarint(bytes, pos, end);
      count = pushValue(count, v);
      pos = q;
    } else if (t === 0x0a) {
      const [len, q] = getVarint(bytes, pos, end);
      const packedEnd = q + len;
      if (packedEnd > end) throw new ExampleError('packed values run past their list');
      pos = q;
      while (pos < packedEnd) {
        // Fast path: one-byte and two-byte varints (token ids, masks, segment ids).
        const b = bytes[pos]!;
        if (b < 0x80) {
          count = pushValue(count, b);
          pos++;
        } else {
          const [v, r] = getVarint(bytes, pos, packedEnd);
          count = pushValue(count, v);
          pos = r;
        }
      }
    } else {
      pos = skipField(bytes, pos, end, t & 7);
    }
  }
  return count;
}
