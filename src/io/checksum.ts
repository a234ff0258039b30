// CRC-32 (zip) and CRC-32C (Castagnoli; TensorFlow and LevelDB tables), plus LevelDB's CRC mask.
import * as zlib from 'node:zlib';

function makeTables(poly: number): Uint32Array[] {
  // Slicing-by-8 tables: table k gives the CRC of a byte followed by k zero bytes.
  const tables: Uint32Array[] = [];
  const t0 = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t0[n] = c >>> 0;
  }
  tables.push(t0);
  for (let k = 1; k < 8; k++) {
    const prev = tables[k - 1]!;
    const t = new Uint32Array(256);
    for (let n = 0; n < 256; n++) t[n] = (prev[n]! >>> 8) ^ t0[prev[n]! & 0xff]!;
    tables.push(t);
  }
  return tables;
}

let crc32cTables: Uint32Array[] | undefined;
let crc32Tables: Uint32Array[] | undefined;

function crcSliced(tables: Uint32Array[], data: Uint8Array, initial: number): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = tables as [
    Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array,
  ];
  let c = ~initial >>> 0;
  let i = 0;
  const n = data.length;
  for (; i + 8 <= n; i += 8) {
    const a = (c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
    c = t7[a & 0xff]! ^ t6[(a >>> 8) & 0xff]! ^ t5[(a >>> 16) & 0xff]! ^ t4[a >>> 24]! ^
      t3[data[i + 4]!]! ^ t2[data[i + 5]!]! ^ t1[data[i + 6]!]! ^ t0[data[i + 7]!]!;
  }
  for (; i < n; i++) c = t0[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32C of `data`, continuing from `initial` (the CRC of the bytes before it). */
export function crc32c(data: Uint8Array, initial = 0): number {
  crc32cTables ??= makeTables(0x82f63b78);
  return crcSliced(crc32cTables, data, initial);
}

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 in plain TypeScript (used where zlib.crc32 is missing: Node < 20.15). */
export function crc32Portable(data: Uint8Array, initial = 0): number {
  crc32Tables ??= makeTables(0xedb88320);
  return crcSliced(crc32Tables, data, initial);
}

/** CRC-32 as used by zip, continuing from `initial`. */
export function crc32(data: Uint8Array, initial = 0): number {
  return nativeCrc32 ? nativeCrc32(data, initial) >>> 0 : crc32Portable(data, initial);
}

const MASK_DELTA = 0xa282ead8;

/** LevelDB/TensorFlow store CRCs masked so that CRCs of data containing CRCs stay well distributed. */
export function maskCrc32c(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + MASK_DELTA) >>> 0;
}

export function unmaskCrc32c(masked: number): number {
  const rot = (masked - MASK_DELTA) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}
