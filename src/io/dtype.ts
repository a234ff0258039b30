// Decoding stored numbers into Float32Array (the parameter arenas' type) and encoding back.
// Every format here is little-endian; so is every platform Node runs on, which we check once.
import { endianness } from 'node:os';

if (endianness() !== 'LE') throw new Error('electra-ts model files need a little-endian host');

/** Element types the readers can turn into Float32Array. */
export type NumericDtype = 'float64' | 'float32' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export const dtypeBytes: Record<NumericDtype, number> = {
  float64: 8, float32: 4, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

let halfTable: Float32Array | undefined;

/** All 65536 IEEE half values as float32 (exact: every half is a float32). */
function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const frac = h & 0x3ff;
    let v: number;
    if (exp === 0) v = frac * 2 ** -24; // subnormal
    else if (exp === 31) v = frac === 0 ? Infinity : NaN;
    else v = (1 + frac / 1024) * 2 ** (exp - 15);
    table[h] = sign * v;
  }
  halfTable = table;
  return table;
}

/** A copy of `bytes` in a fresh, aligned buffer (typed-array views need alignment). */
function alignedCopy(bytes: Uint8Array): ArrayBuffer {
  const buf = new ArrayBuffer(bytes.length);
  new Uint8Array(buf).set(bytes);
  return buf;
}

/** A read-only-use view of `bytes` as 16-bit words, copying only when misaligned. */
function words16(bytes: Uint8Array): Uint16Array {
  return bytes.byteOffset % 2 === 0
    ? new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2)
    : new Uint16Array(alignedCopy(bytes));
}

/** Decodes `count` little-endian elements of `dtype` from `bytes` into a new Float32Array. */
export function decodeToFloat32(bytes: Uint8Array, dtype: NumericDtype, count: number): Float32Array {
  const need = count * dtypeBytes[dtype];
  if (bytes.length !== need) throw new RangeError(`expected ${need} bytes for ${count} ${dtype}, got ${bytes.length}`);
  switch (dtype) {
    case 'float32':
      return new Float32Array(alignedCopy(bytes));
    case 'float16': {
      const table = halfToFloatTable();
      const src = words16(bytes);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = table[src[i]!]!;
      return out;
    }
    case 'bfloat16': {
      // bfloat16 is the top half of a float32: shift it into place bit for bit.
      const src = words16(bytes);
      const out = new Float32Array(count);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = src[i]! << 16;
      return out;
    }
    case 'float64':
      return Float32Array.from(new Float64Array(alignedCopy(bytes)));
    case 'int64': {
      const src = new BigInt64Array(alignedCopy(bytes));
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = Number(src[i]!);
      return out;
    }
    case 'int32':
      return Float32Array.from(new Int32Array(alignedCopy(bytes)));
    case 'int16':
      return Float32Array.from(new Int16Array(alignedCopy(bytes)));
    case 'int8':
      return Float32Array.from(new Int8Array(alignedCopy(bytes)));
    case 'uint8':
      return Float32Array.from(bytes);
    case 'bool':
      return Float32Array.from(bytes, (b) => (b !== 0 ? 1 : 0));
  }
}

/** The bytes of a Float32Array as stored on disk (little-endian), without copying. */
export function float32Bytes(data: Float32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Rounds float32 values to IEEE half (round to nearest even), for writers and tests. */
export function encodeFloat16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < values.length; i++) {
    f[0] = values[i]!;
    const x = u[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) { out[i] = sign | 0x7c00 | (mant ? 0x200 : 0); continue; }
    const e = exp - 127 + 15;
    if (e >= 31) { out[i] = sign | 0x7c00; continue; }
    if (e <= 0) {
      if (e < -10) { out[i] = sign; continue; }
      mant |= 0x800000;
      const shift = 14 - e;
      let half = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const mid = 1 << (shift - 1);
      if (rem > mid || (rem === mid && (half & 1))) half++;
      out[i] = sign | half;
      continue;
    }
    let half = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
    out[i] = sign | half;
  }
  return out;
}

/** Truncates float32 values to bfloat16 with round-to-nearest-even (as torch does). */
export function encodeBfloat16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < values.length; i++) {
    f[0] = values[i]!;
    const x = u[0]!;
    if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) { out[i] = (x >>> 16) | 0x40; continue; }
    out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** Number of elements of a shape; shapes are checked by the readers before this is called. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
