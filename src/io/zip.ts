// A zip reader for PyTorch's checkpoint container: central directory (zip64 too), stored and
// deflated entries, CRC-32 checked. Entries are read positionally, so large files stay on disk.
import { inflateRawSync } from 'node:zlib';
import { FormatError } from '../errors.js';
import { crc32 } from './checksum.js';
import { RandomAccessFile } from './files.js';

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const U32_MAX = 0xffffffff;
/** Deflate's best case: a 258-byte match in 2 bits, so no honest stream inflates by more than this. */
const MAX_DEFLATE_RATIO = 1032;

/** What the caller knows of an entry's size, checked before any byte is read or inflated. */
export interface ZipReadLimits {
  /** The exact size the entry must have (e.g. numel x itemsize of a storage). */
  expectedBytes?: number;
  /** The most the caller will accept (e.g. for a pickle). */
  maxBytes?: number;
}

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflated. */
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  localHeaderOffset: number;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function u64(dv: DataView, pos: number, file: string): number {
  const v = dv.getBigUint64(pos, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(file, `zip64 field ${v} is out of range`);
  return Number(v);
}

export class ZipReader {
  readonly path: string;
  readonly entries = new Map<string, ZipEntry>();
  private file: RandomAccessFile;

  constructor(path: string) {
    this.path = path;
    this.file = new RandomAccessFile(path);
    try {
      this.readCentralDirectory();
    } catch (err) {
      this.file.close();
      throw err;
    }
  }

  private readCentralDirectory(): void {
    const f = this.file;
    const file = this.path;
    if (f.size < 22) throw new FormatError(file, `truncated: ${f.size} bytes is too short for a zip archive`);
    const tailLen = Math.min(f.size, 22 + 65535);
    const tail = f.read(f.size - tailLen, tailLen, 'the end of the zip archive');
    const tv = view(tail);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tv.getUint32(i, true) === EOCD_SIG && i + 22 + tv.getUint16(i + 20, true) === tail.length) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw new FormatError(file, 'no zip end-of-central-directory record (truncated or not a zip archive)');
    let count = tv.getUint16(eocd + 10, true);
    let cdSize = tv.getUint32(eocd + 12, true);
    let cdOffset = tv.getUint32(eocd + 16, true);
    const eocdAbs = f.size - tailLen + eocd;
    if (count === 0xffff || cdSize === U32_MAX || cdOffset === U32_MAX) {
      if (eocdAbs < 20) throw new FormatError(file, 'zip64 locator missing');
      const loc = view(f.read(eocdAbs - 20, 20, 'the zip64 locator'));
      if (loc.getUint32(0, true) !== ZIP64_LOCATOR_SIG) throw new FormatError(file, 'zip64 fields are set but the zip64 locator is missing');
      const recOffset = u64(loc, 8, file);
      const rec = view(f.read(recOffset, 56, 'the zip64 end-of-central-directory record'));
      if (rec.getUint32(0, true) !== ZIP64_EOCD_SIG) throw new FormatError(file, 'bad zip64 end-of-central-directory signature');
      count = u64(rec, 32, file);
      cdSize = u64(rec, 40, file);
      cdOffset = u64(rec, 48, file);
    }
    const cd = f.read(cdOffset, cdSize, 'the zip central directory');
    const dv = view(cd);
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cd.length || dv.getUint32(p, true) !== CENTRAL_SIG) {
        throw new FormatError(file, `zip central directory entry ${i} is damaged`);
      }
      const flags = dv.getUint16(p + 8, true);
      const method = dv.getUint16(p + 10, true);
      const crc = dv.getUint32(p + 16, true);
      let compressedSize = dv.getUint32(p + 20, true);
      let size = dv.getUint32(p + 24, true);
      const nameLen = dv.getUint16(p + 28, true);
      const extraLen = dv.getUint16(p + 30, true);
      const commentLen = dv.getUint16(p + 32, true);
      let localHeaderOffset = dv.getUint32(p + 42, true);
      if (p + 46 + nameLen + extraLen + commentLen > cd.length) throw new FormatError(file, `zip central directory entry ${i} is cut off`);
      const name = new TextDecoder().decode(cd.subarray(p + 46, p + 46 + nameLen));
      // zip64 extended information: the 8-byte values appear only for fields saturated above.
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = dv.getUint16(e, true);
        const len = dv.getUint16(e + 2, true);
        if (id === 0x0001) {
          let q = e + 4;
          const need = (n: number): void => {
            if (q + n > e + 4 + len) throw new FormatError(file, `zip64 extra field of '${name}' is too short`);
          };
          if (size === U32_MAX) { need(8); size = u64(dv, q, file); q += 8; }
          if (compressedSize === U32_MAX) { need(8); compressedSize = u64(dv, q, file); q += 8; }
          if (localHeaderOffset === U32_MAX) { need(8); localHeaderOffset = u64(dv, q, file); q += 8; }
        }
        e += 4 + len;
      }
      if (flags & 1) throw new FormatError(file, `zip entry '${name}' is encrypted`);
      this.entries.set(name, { name, method, compressedSize, size, crc32: crc, localHeaderOffset });
      p += 46 + nameLen + extraLen + commentLen;
    }
  }

  /**
   * The uncompressed bytes of entry `name`, CRC-checked. `what` describes it in errors. The
   * declared size is checked against `limits` and the compressed size before anything is read,
   * and inflating stops at the declared size, so a hostile header cannot make memory balloon.
   */
  read(name: string, what = `zip entry '${name}'`, tensor?: string, limits: ZipReadLimits = {}): Uint8Array {
    const entry = this.entries.get(name);
    if (!entry) throw new FormatError(this.path, `${what} is missing from the archive`, tensor);
    this.checkDeclaredSize(entry, what, tensor, limits);
    const local = view(this.file.read(entry.localHeaderOffset, 30, `the local header of ${what}`, tensor));
    if (local.getUint32(0, true) !== LOCAL_SIG) throw new FormatError(this.path, `bad local header signature for ${what}`, tensor);
    const dataOffset = entry.localHeaderOffset + 30 + local.getUint16(26, true) + local.getUint16(28, true);
    const raw = this.file.read(dataOffset, entry.compressedSize, what, tensor);
    let data: Uint8Array;
    if (entry.method === 0) {
      data = raw;
    } else if (entry.method === 8) {
      try {
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
      } catch (err) {
        throw new FormatError(this.path, `${what} does not inflate: ${(err as Error).message}`, tensor);
      }
      if (data.length !== entry.size) {
        throw new FormatError(this.path, `${what} inflates to ${data.length} bytes, expected ${entry.size}`, tensor);
      }
    } else {
      throw new FormatError(this.path, `${what} uses zip compression method ${entry.method}; only stored (0) and deflate (8) are supported`, tensor);
    }
    const actual = crc32(data);
    if (actual !== entry.crc32) {
      throw new FormatError(
        this.path,
        `CRC-32 mismatch in ${what}: stored 0x${entry.crc32.toString(16).padStart(8, '0')}, computed 0x${actual.toString(16).padStart(8, '0')} (file damaged)`,
        tensor,
      );
    }
    return data;
  }

  private checkDeclaredSize(entry: ZipEntry, what: string, tensor: string | undefined, limits: ZipReadLimits): void {
    const { size, compressedSize } = entry;
    if (limits.expectedBytes !== undefined && size !== limits.expectedBytes) {
      throw new FormatError(this.path, `${what} declares ${size} bytes, expected ${limits.expectedBytes} (refused before reading it)`, tensor);
    }
    if (limits.maxBytes !== undefined && size > limits.maxBytes) {
      throw new FormatError(this.path, `${what} declares ${size} bytes, more than the ${limits.maxBytes} allowed (refused before reading it)`, tensor);
    }
    if (entry.method === 0 && compressedSize !== size) {
      throw new FormatError(this.path, `${what} is stored but its sizes differ (${compressedSize} stored, ${size} declared)`, tensor);
    }
    if (entry.method === 8 && size > compressedSize * MAX_DEFLATE_RATIO + 64) {
      throw new FormatError(
        this.path,
        `${what} declares ${size} bytes, more than deflate can produce from its ${compressedSize} compressed bytes (damaged or hostile archive)`,
        tensor,
      );
    }
    if (compressedSize > this.file.size) {
      throw new FormatError(this.path, `truncated: ${what} declares ${compressedSize} compressed bytes but the file has ${this.file.size}`, tensor);
    }
  }

  close(): void {
    this.file.close();
  }
}
