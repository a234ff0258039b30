// LevelDB-style SSTable, the layout of a TensorBundle's .index file:
// data blocks, a metaindex block, an index block (last key of each data block -> handle),
// and a 48-byte footer (two block handles, padding, magic 0xdb4775248b80fb57). Each block is
// followed by a compression-type byte and the masked CRC-32C of contents + type byte.
// A block holds prefix-compressed entries (shared, unshared, value length, key delta, value)
// followed by restart offsets and their count.
import { FormatError } from '../errors.js';
import { crc32c, maskCrc32c } from './checksum.js';
import { readVarint, ProtoError } from './protobuf.js';
import { snappyUncompress, SnappyError } from './snappy.js';

export const SSTABLE_MAGIC = 0xdb4775248b80fb57n;
const FOOTER_BYTES = 48;
const BLOCK_TRAILER_BYTES = 5;

export interface BlockHandle {
  offset: number;
  size: number;
}

function varintNumber(bytes: Uint8Array, pos: number): [number, number] {
  const [v, next] = readVarint(bytes, pos);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtoError('varint out of range');
  return [Number(v), next];
}

function decodeHandle(bytes: Uint8Array, pos: number): [BlockHandle, number] {
  const [offset, p1] = varintNumber(bytes, pos);
  const [size, p2] = varintNumber(bytes, p1);
  return [{ offset, size }, p2];
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Reads every (key, value) of an SSTable held in `bytes`, in key order, checking block CRCs. */
export function readSSTable(file: string, bytes: Uint8Array): Array<[Uint8Array, Uint8Array]> {
  if (bytes.length < FOOTER_BYTES) {
    throw new FormatError(file, `truncated: ${bytes.length} bytes is too short for a table footer (${FOOTER_BYTES})`);
  }
  const footer = bytes.subarray(bytes.length - FOOTER_BYTES);
  const magic = new DataView(footer.buffer, footer.byteOffset + 40, 8).getBigUint64(0, true);
  if (magic !== SSTABLE_MAGIC) {
    throw new FormatError(file, `bad table magic 0x${magic.toString(16)} (expected 0x${SSTABLE_MAGIC.toString(16)}): not a TensorBundle index, or truncated`);
  }
  let indexHandle: BlockHandle;
  try {
    const [, p] = decodeHandle(footer, 0); // metaindex: unused by TensorBundle
    [indexHandle] = decodeHandle(footer, p);
  } catch (err) {
    throw new FormatError(file, `bad table footer: ${(err as Error).message}`);
  }
  const dataEnd = bytes.length - FOOTER_BYTES;

  const readBlock = (h: BlockHandle, what: string): Uint8Array => {
    if (h.offset + h.size + BLOCK_TRAILER_BYTES > dataEnd) {
      throw new FormatError(file, `${what} at offset ${h.offset} (size ${h.size}) runs past the end of the table (truncated?)`);
    }
    const contents = bytes.subarray(h.offset, h.offset + h.size);
    const type = bytes[h.offset + h.size]!;
    const stored = new DataView(bytes.buffer, bytes.byteOffset + h.offset + h.size + 1, 4).getUint32(0, true);
    const actual = maskCrc32c(crc32c(bytes.subarray(h.offset, h.offset + h.size + 1)));
    if (stored !== actual) {
      throw new FormatError(file, `CRC-32C mismatch in ${what} at offset ${h.offset}: stored 0x${stored.toString(16).padStart(8, '0')}, computed 0x${actual.toString(16).padStart(8, '0')} (index file damaged)`);
    }
    if (type === 0) return contents;
    if (type === 1) {
      try {
        return snappyUncompress(contents);
      } catch (err) {
        if (err instanceof SnappyError) throw new FormatError(file, `${what} at offset ${h.offset}: bad snappy data: ${err.message}`);
        throw err;
      }
    }
    throw new FormatError(file, `${what} at offset ${h.offset} uses compression type ${type}; only none (0) and snappy (1) are supported`);
  };

  const parseBlock = (block: Uint8Array, what: string): Array<[Uint8Array, Uint8Array]> => {
    try {
      if (block.length < 4) throw new ProtoError('block shorter than its restart count');
      const dv = new DataView(block.buffer, block.byteOffset, block.length);
      const numRestarts = dv.getUint32(block.length - 4, true);
      const restartsAt = block.length - 4 - 4 * numRestarts;
      if (restartsAt < 0) throw new ProtoError(`restart count ${numRestarts} does not fit the block`);
      const out: Array<[Uint8Array, Uint8Array]> = [];
      let prev = new Uint8Array(0);
      let pos = 0;
      while (pos < restartsAt) {
        const [shared, p1] = varintNumber(block, pos);
        const [unshared, p2] = varintNumber(block, p1);
        const [valueLen, p3] = varintNumber(block, p2);
        if (shared > prev.length) throw new ProtoError(`entry shares ${shared} key bytes but the previous key has ${prev.length}`);
        if (p3 + unshared + valueLen > restartsAt) throw new ProtoError('entry runs into the restart array');
        const key = new Uint8Array(shared + unshared);
        key.set(prev.subarray(0, shared));
        key.set(block.subarray(p3, p3 + unshared), shared);
        const value = block.subarray(p3 + unshared, p3 + unshared + valueLen);
        out.push([key, value]);
        prev = key;
        pos = p3 + unshared + valueLen;
      }
      return out;
    } catch (err) {
      if (err instanceof ProtoError) throw new FormatError(file, `${what} is malformed: ${err.message}`);
      throw err;
    }
  };

  const result: Array<[Uint8Array, Uint8Array]> = [];
  const indexEntries = parseBlock(readBlock(indexHandle, 'the index block'), 'the index block');
  for (const [, handleBytes] of indexEntries) {
    let handle: BlockHandle;
    try {
      [handle] = decodeHandle(handleBytes, 0);
    } catch (err) {
      throw new FormatError(file, `bad block handle in the index block: ${(err as Error).message}`);
    }
    const entries = parseBlock(readBlock(handle, 'a data block'), `the data block at offset ${handle.offset}`);
    for (const entry of entries) {
      const before = result[result.length - 1];
      if (before && compareBytes(before[0], entry[0]) >= 0) {
        throw new FormatError(file, `keys out of order in the data block at offset ${handle.offset} (damaged index)`);
      }
      result.push(entry);
    }
  }
  return result;
}
