// The shard file format: a 128-byte header, then fixed-size records [length, segmentBoundary, ids x L]
// in one integer type (uint16 when the vocabulary fits, else int32), little-endian. input_mask and
// segment ids follow from length and segmentBoundary, so they are not stored. Format 2 adds a CRC-32C
// of the records to the header (bytes 96..100), checked whenever a shard is opened for reading;
// format 1 shards (no checksum) are still read, with a notice.
import { closeSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync, fstatSync } from 'node:fs';
import { endianness } from 'node:os';
import { basename } from 'node:path';
import { crc32c } from '../io/checksum.js';
import { FormatError } from '../errors.js';
import { asDiskFull } from '../io/files.js';

export const SHARD_MAGIC = 'ELTSPTD\0';
export const SHARD_FORMAT_VERSION = 2;
/** The oldest format still read: 1 has no content checksum. */
export const OLDEST_SHARD_FORMAT_VERSION = 1;
export const SHARD_HEADER_BYTES = 128;
export const PARTIAL_SUFFIX = '.partial';

export type IdWidth = 2 | 4;

export interface ShardHeader {
  formatVersion: number;
  /** Bytes per stored integer: 2 (uint16) or 4 (int32). */
  idWidth: IdWidth;
  maxSeqLength: number;
  numExamples: number;
  /** sha256 of the vocabulary, hex. */
  vocabHash: string;
  /** sha256 identifying the build (config and corpus), hex; lets a rerun tell its own finished shards. */
  buildHash: string;
  /** CRC-32C of every byte after the header (format 2); null in format 1 shards. */
  contentCrc32c: number | null;
}

/** A shard file error naming the file and what was expected. */
export class ShardFormatError extends FormatError {
  constructor(file: string, message: string) {
    super(file, message);
    this.name = 'ShardFormatError';
  }
}

if (endianness() !== 'LE') throw new Error('electra-ts shards are little-endian; this platform is big-endian');

/** Writes all of `data` at `position` (a write may take less than asked); a full disk is named as such. */
export function writeFully(fd: number, data: Uint8Array, position: number, path: string): void {
  try {
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off, position + off);
  } catch (err) {
    throw asDiskFull(err, path);
  }
}

/** Longer than any ELECTRA position table, short enough that one record is small. */
const MAX_SHARD_SEQ_LENGTH = 1 << 16;

/** The integer width that holds every id of a vocabulary of this size. */
export function idWidthForVocab(vocabSize: number): IdWidth {
  return vocabSize <= 0x10000 ? 2 : 4;
}

export function recordBytes(idWidth: IdWidth, maxSeqLength: number): number {
  return (maxSeqLength + 2) * idWidth;
}

/** `shard-00003-of-01000.bin` */
export function shardFileName(index: number, count: number): string {
  const width = Math.max(5, String(count).length);
  return `shard-${String(index).padStart(width, '0')}-of-${String(count).padStart(width, '0')}.bin`;
}

export const SHARD_FILE_PATTERN = /^shard-\d+-of-\d+\.bin$/;

function encodeHeader(h: ShardHeader): Buffer {
  const buf = Buffer.alloc(SHARD_HEADER_BYTES);
  buf.write(SHARD_MAGIC, 0, 'latin1');
  buf.writeUInt32LE(h.formatVersion, 8);
  buf.writeUInt32LE(h.idWidth, 12);
  buf.writeUInt32LE(h.maxSeqLength, 16);
  buf.writeUInt32LE(SHARD_HEADER_BYTES, 20);
  buf.writeBigUInt64LE(BigInt(h.numExamples), 24);
  writeHash(buf, 32, h.vocabHash, 'vocabHash');
  writeHash(buf, 64, h.buildHash, 'buildHash');
  buf.writeUInt32LE(h.contentCrc32c ?? 0, 96);
  return buf;
}

function writeHash(buf: Buffer, offset: number, hex: string, what: string): void {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${what} must be 64 lowercase hex digits, got '${hex}'`);
  buf.write(hex, offset, 'hex');
}

function decodeHeader(file: string, buf: Buffer, fileBytes: number): ShardHeader {
  if (buf.length < SHARD_HEADER_BYTES || buf.toString('latin1', 0, 8) !== SHARD_MAGIC) {
    throw new ShardFormatError(file, 'not an electra-ts pre-training shard (bad magic bytes)');
  }
  const formatVersion = buf.readUInt32LE(8);
  if (formatVersion < OLDEST_SHARD_FORMAT_VERSION || formatVersion > SHARD_FORMAT_VERSION) {
    throw new ShardFormatError(file, `shard format version ${formatVersion}, expected ${OLDEST_SHARD_FORMAT_VERSION} to ${SHARD_FORMAT_VERSION}`);
  }
  const idWidth = buf.readUInt32LE(12);
  if (idWidth !== 2 && idWidth !== 4) throw new ShardFormatError(file, `id width ${idWidth} bytes, expected 2 or 4`);
  const maxSeqLength = buf.readUInt32LE(16);
  // Bounded before the size check: readers allocate a record (and callers a batch) from it.
  if (maxSeqLength < 1 || maxSeqLength > MAX_SHARD_SEQ_LENGTH) {
    throw new ShardFormatError(file, `max_seq_length ${maxSeqLength}, expected 1..${MAX_SHARD_SEQ_LENGTH}`);
  }
  const headerBytes = buf.readUInt32LE(20);
  if (headerBytes !== SHARD_HEADER_BYTES) throw new ShardFormatError(file, `header size ${headerBytes}, expected ${SHARD_HEADER_BYTES}`);
  const numExamples = Number(buf.readBigUInt64LE(24));
  const expectedBytes = SHARD_HEADER_BYTES + numExamples * recordBytes(idWidth, maxSeqLength);
  if (fileBytes !== expectedBytes) {
    throw new ShardFormatError(file, `${fileBytes} bytes, expected ${expectedBytes} for ${numExamples} examples of length ${maxSeqLength} (truncated or corrupt)`);
  }
  return {
    formatVersion, idWidth, maxSeqLength, numExamples,
    vocabHash: buf.toString('hex', 32, 64),
    buildHash: buf.toString('hex', 64, 96),
    contentCrc32c: formatVersion >= 2 ? buf.readUInt32LE(96) : null,
  };
}

/** Reads and checks a shard's header (magic, version, and that the size matches the example count). */
export function readShardHeader(file: string): ShardHeader {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new ShardFormatError(file, `cannot open: ${(e as Error).message}`);
  }
  try {
    const buf = Buffer.alloc(SHARD_HEADER_BYTES);
    const n = readSync(fd, buf, 0, SHARD_HEADER_BYTES, 0);
    return decodeHeader(file, buf.subarray(0, n), fstatSync(fd).size);
  } finally {
    closeSync(fd);
  }
}

export interface ShardWriterOptions {
  idWidth: IdWidth;
  maxSeqLength: number;
  vocabHash: string;
  buildHash: string;
  /** Records buffered before a write; bounds memory per open shard. */
  bufferedRecords?: number;
  /** fsync before the rename (default false: completeness is judged by header and size, not by the name alone). */
  sync?: boolean;
}

/**
 * Writes one shard to `<path>.partial`; finish() writes the header, closes and renames it to path, so
 * a shard under its final name is complete. The file is opened on the first flush and the buffer
 * allocated on the first write, so that a job with many shards holds little per shard.
 */
export class ShardWriter {
  readonly partialPath: string;
  private fd: number | null = null;
  private readonly record: number;
  private readonly capacity: number;
  private buffer: ArrayBuffer | null = null;
  private view16 = new Uint16Array(0);
  private view32 = new Int32Array(0);
  private buffered = 0;
  private filePos = SHARD_HEADER_BYTES;
  private crc = 0;
  private count = 0;
  private closed = false;

  constructor(readonly path: string, private readonly options: ShardWriterOptions) {
    this.partialPath = path + PARTIAL_SUFFIX;
    this.record = recordBytes(options.idWidth, options.maxSeqLength);
    this.capacity = Math.max(1, options.bufferedRecords ?? Math.ceil(16384 / this.record));
  }

  get examples(): number {
    return this.count;
  }

  /** Appends one example: ids[0, length) are stored, the rest of the row as zeros. */
  write(ids: Int32Array, length: number, segmentBoundary: number): void {
    const L = this.options.maxSeqLength;
    if (ids.length !== L) throw new RangeError(`example has ${ids.length} ids, shard holds ${L}`);
    if (!(length >= 1 && length <= L && segmentBoundary >= 1 && segmentBoundary <= length)) {
      throw new RangeError(`bad example: length ${length}, segment boundary ${segmentBoundary} (max length ${L})`);
    }
    if (this.closed) throw new Error(`${basename(this.path)}: write after finish or abort`);
    if (!this.buffer) {
      this.buffer = new ArrayBuffer(this.capacity * this.record);
      this.view16 = new Uint16Array(this.buffer);
      this.view32 = new Int32Array(this.buffer);
    }
    if (this.buffered === this.capacity) this.flush();
    const o = this.buffered * (L + 2);
    const v = this.options.idWidth === 2 ? this.view16 : this.view32;
    const max = this.options.idWidth === 2 ? 0xffff : 0x7fffffff;
    v[o] = length;
    v[o + 1] = segmentBoundary;
    for (let i = 0; i < length; i++) {
      const id = ids[i]!;
      if (id < 0 || id > max) throw new RangeError(`token id ${id} does not fit a ${this.options.idWidth === 2 ? 'uint16' : 'int32'} shard`);
      v[o + 2 + i] = id;
    }
    // Padding is stored as zeros whatever the caller left there.
    v.fill(0, o + 2 + length, o + 2 + L);
    this.buffered++;
    this.count++;
  }

  private openFile(): number {
    this.fd ??= openSync(this.partialPath, 'w');
    return this.fd;
  }

  private flush(): void {
    if (this.buffered === 0 || !this.buffer) return;
    const fd = this.openFile();
    const bytes = this.buffered * this.record;
    const data = new Uint8Array(this.buffer, 0, bytes);
    this.crc = crc32c(data, this.crc);
    writeFully(fd, data, this.filePos, this.path);
    this.filePos += bytes;
    this.buffered = 0;
  }

  /** Writes the header, closes and renames the partial file to its final name. Returns the example count. */
  finish(): number {
    if (this.closed) throw new Error(`${basename(this.path)}: already finished`);
    this.flush();
    const fd = this.openFile();
    const header = encodeHeader({
      formatVersion: SHARD_FORMAT_VERSION, idWidth: this.options.idWidth, maxSeqLength: this.options.maxSeqLength,
      numExamples: this.count, vocabHash: this.options.vocabHash, buildHash: this.options.buildHash, contentCrc32c: this.crc,
    });
    writeFully(fd, header, 0, this.path);
    if (this.options.sync) fsyncSync(fd);
    closeSync(fd);
    this.fd = null;
    this.closed = true;
    this.buffer = null;
    renameSync(this.partialPath, this.path);
    return this.count;
  }

  /** Closes and deletes the partial file (after an error). */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    this.buffer = null;
    discardPartial(this.fd, this.partialPath);
    this.fd = null;
  }
}

/** Closes a writer's descriptor (if open) and deletes its partial file. */
export function discardPartial(fd: number | null, partialPath: string): void {
  if (fd !== null) {
    try {
      closeSync(fd);
    } catch {
      // already closed after a failed write: nothing to release
    }
  }
  rmSync(partialPath, { force: true });
}

/** One example read back: ids[0, length) are real tokens, the rest zeros. */
export interface StoredExample {
  ids: Int32Array;
  length: number;
  segmentBoundary: number;
}

/**
 * Random access to one shard's records, either fully loaded (preload) or read on demand with
 * positioned reads, so the OS page cache plays the part of a memory map.
 */
export class ShardReader {
  readonly header: ShardHeader;
  private readonly record: number;
  private fd: number | null = null;
  private data: Uint16Array | Int32Array | null = null;
  private readonly scratch: Uint8Array;
  private readonly scratchView: Uint16Array | Int32Array;

  /**
   * Opens a shard. With `verify`, every byte is read once now: the content checksum (format 2) must
   * match and every example must be well-formed with ids below verify.vocabSize, else the error names
   * the shard and the example.
   */
  constructor(readonly file: string, opts: { preload: boolean; verify?: { vocabSize: number } }) {
    this.header = readShardHeader(file);
    this.record = recordBytes(this.header.idWidth, this.header.maxSeqLength);
    const scratch = new ArrayBuffer(this.record);
    this.scratch = new Uint8Array(scratch);
    this.scratchView = this.header.idWidth === 2 ? new Uint16Array(scratch) : new Int32Array(scratch);
    if (!opts.preload && !opts.verify) return;
    const total = this.header.numExamples * this.record;
    // Whole shard when preloading, else in chunks of whole records.
    const chunkBytes = opts.preload ? total : Math.max(this.record, Math.floor((1 << 20) / this.record) * this.record);
    const buffer = new ArrayBuffer(Math.max(4, Math.min(total, chunkBytes)));
    const target = new Uint8Array(buffer);
    const view = this.header.idWidth === 2 ? new Uint16Array(buffer) : new Int32Array(buffer);
    const fd = openSync(file, 'r');
    let crc = 0;
    try {
      for (let at = 0; at < total; at += chunkBytes) {
        const bytes = Math.min(chunkBytes, total - at);
        let off = 0;
        while (off < bytes) {
          const n = readSync(fd, target, off, bytes - off, SHARD_HEADER_BYTES + at + off);
          if (n === 0) throw new ShardFormatError(file, `ended early at byte ${SHARD_HEADER_BYTES + at + off}`);
          off += n;
        }
        if (opts.verify) {
          crc = crc32c(target.subarray(0, bytes), crc);
          this.checkExamples(view, at / this.record, bytes / this.record, opts.verify.vocabSize);
        }
      }
    } finally {
      closeSync(fd);
    }
    if (opts.verify && this.header.contentCrc32c !== null && crc !== this.header.contentCrc32c) {
      throw new ShardFormatError(file, `content checksum mismatch: CRC-32C of the examples is ${crc.toString(16).padStart(8, '0')}, the header says ${this.header.contentCrc32c.toString(16).padStart(8, '0')} (the shard is corrupt; rebuild it)`);
    }
    if (opts.preload) this.data = view;
  }

  /** Checks `count` records in view (the first being example `first`): lengths, boundary, ids in the vocabulary. */
  private checkExamples(view: Uint16Array | Int32Array, first: number, count: number, vocabSize: number): void {
    const L = this.header.maxSeqLength;
    for (let r = 0; r < count; r++) {
      const o = r * (L + 2);
      const length = view[o]!;
      const boundary = view[o + 1]!;
      if (!(length >= 1 && length <= L && boundary >= 1 && boundary <= length)) {
        throw new ShardFormatError(this.file, `example ${first + r}: length ${length}, segment boundary ${boundary}; expected 1 <= boundary <= length <= ${L}`);
      }
      for (let i = 0; i < length; i++) {
        const id = view[o + 2 + i]!;
        if (id >= vocabSize || id < 0) {
          throw new ShardFormatError(this.file, `example ${first + r}: token ${i} has id ${id}, outside the vocabulary [0, ${vocabSize}) (built with another vocabulary, or corrupt)`);
        }
      }
    }
  }

  get numExamples(): number {
    return this.header.numExamples;
  }

  /**
   * Copies example `index` into ids (length maxSeqLength) and returns [length, segmentBoundary].
   * Checks the stored lengths, so a corrupt record fails here and not in the model.
   */
  read(index: number, ids: Int32Array, idsOffset = 0): [number, number] {
    const L = this.header.maxSeqLength;
    if (!(index >= 0 && index < this.header.numExamples)) throw new RangeError(`${this.file}: example ${index} out of range [0, ${this.header.numExamples})`);
    let src: Uint16Array | Int32Array;
    let o: number;
    if (this.data) {
      src = this.data;
      o = index * (L + 2);
    } else {
      if (this.fd === null) this.fd = openSync(this.file, 'r');
      const n = readSync(this.fd, this.scratch, 0, this.record, SHARD_HEADER_BYTES + index * this.record);
      if (n !== this.record) throw new ShardFormatError(this.file, `short read of example ${index}`);
      src = this.scratchView;
      o = 0;
    }
    const length = src[o]!;
    const boundary = src[o + 1]!;
    if (!(length >= 1 && length <= L && boundary >= 1 && boundary <= length)) {
      throw new ShardFormatError(this.file, `example ${index}: length ${length}, segment boundary ${boundary}; expected 1 <= boundary <= length <= ${L}`);
    }
    o += 2;
    for (let i = 0; i < L; i++) ids[idsOffset + i] = src[o + i]!;
    return [length, boundary];
  }

  /** Releases the file descriptor (reads reopen it). */
  close(): void {
    if (this.fd !== null) {
      closeSync(this.fd);
      this.fd = null;
    }
  }
}
