// safetensors: an 8-byte little-endian header length N, N bytes of JSON
// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}),
// then the tensor bytes, contiguous, offsets relative to the end of the header.
// Validation follows the reference implementation (huggingface/safetensors): header at most
// 100 MB, offsets contiguous from 0, each size = numel * dtype size, and the data section ends
// exactly at the end of the file. The writer pads the header with spaces to a multiple of 8,
// orders tensors by name and stores float32 ("F32").
import { FormatError } from '../errors.js';
import { decodeToFloat32, float32Bytes, numel, type NumericDtype } from './dtype.js';
import { RandomAccessFile, withFile, writeFileAtomic } from './files.js';
import { shapeString, type Tensor, type TensorMap } from './tensor.js';

const MAX_HEADER_BYTES = 100_000_000;

/** Every dtype name the format defines, with its size in bits. */
const SAFETENSORS_DTYPE_BITS: Record<string, number> = {
  BOOL: 8, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, F4: 4, F6_E2M3: 6, F6_E3M2: 6,
  I16: 16, U16: 16, F16: 16, BF16: 16, I32: 32, U32: 32, F32: 32, F64: 64, I64: 64, U64: 64, C64: 64,
};

/** The dtypes this reader converts to float32. */
const READABLE: Record<string, NumericDtype> = {
  F64: 'float64', F32: 'float32', F16: 'float16', BF16: 'bfloat16', I64: 'int64', I32: 'int32',
  I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool',
};

export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Offsets relative to the start of the data section, as in the header. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  metadata: Record<string, string> | undefined;
  /** Entries in offset order. */
  entries: SafetensorsEntry[];
  /** Absolute file offset of the data section. */
  dataStart: number;
}

function isNonNegativeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Parses and validates the header of a safetensors file of `fileSize` bytes. `readAt(pos, len)`
 * returns bytes of the file; `file` names it in errors.
 */
export function parseSafetensorsHeader(
  file: string, fileSize: number, readAt: (pos: number, len: number, what: string) => Uint8Array,
): SafetensorsHeader {
  if (fileSize < 8) throw new FormatError(file, `truncated: ${fileSize} bytes is too short for a safetensors header length`);
  const lenBytes = readAt(0, 8, 'the header length');
  const headerLen = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLen > BigInt(MAX_HEADER_BYTES)) {
    throw new FormatError(file, `header length ${headerLen} exceeds the format's limit of ${MAX_HEADER_BYTES} bytes (not a safetensors file?)`);
  }
  const n = Number(headerLen);
  if (8 + n > fileSize) {
    throw new FormatError(file, `truncated: the header claims ${n} bytes but only ${fileSize - 8} follow the length field`);
  }
  const text = new TextDecoder('utf-8', { fatal: true });
  let json: unknown;
  try {
    json = JSON.parse(text.decode(readAt(8, n, 'the header')));
  } catch (err) {
    throw new FormatError(file, `header is not valid UTF-8 JSON: ${(err as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new FormatError(file, 'header must be a JSON object');
  }
  let metadata: Record<string, string> | undefined;
  const entries: SafetensorsEntry[] = [];
  for (const [name, info] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) {
        throw new FormatError(file, '__metadata__ must be an object of strings');
      }
      metadata = {};
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') throw new FormatError(file, `__metadata__.${k} must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    if (typeof info !== 'object' || info === null) throw new FormatError(file, `header entry is not an object`, name);
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (typeof dtype !== 'string' || !(dtype in SAFETENSORS_DTYPE_BITS)) {
      throw new FormatError(file, `tensor '${name}' has unknown dtype ${JSON.stringify(dtype)}`, name);
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInt)) {
      throw new FormatError(file, `tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`, name);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInt)) {
      throw new FormatError(file, `tensor '${name}' has invalid data_offsets ${JSON.stringify(offsets)}`, name);
    }
    entries.push({ name, dtype, shape: shape as number[], begin: offsets[0] as number, end: offsets[1] as number });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const e of entries) {
    if (e.begin !== expected || e.end < e.begin) {
      throw new FormatError(
        file,
        `tensor '${e.name}' has data_offsets [${e.begin}, ${e.end}] but the previous tensor ends at ${expected} (offsets must be contiguous)`,
        e.name,
      );
    }
    const bits = numel(e.shape) * SAFETENSORS_DTYPE_BITS[e.dtype]!;
    const bytes = bits / 8;
    if (!Number.isSafeInteger(bytes) || e.end - e.begin !== bytes) {
      throw new FormatError(
        file,
        `tensor '${e.name}' has ${e.end - e.begin} bytes but shape ${shapeString(e.shape)} ${e.dtype} needs ${bytes}`,
        e.name,
      );
    }
    expected = e.end;
  }
  const dataStart = 8 + n;
  const dataBytes = fileSize - dataStart;
  if (expected > dataBytes) {
    const cut = entries.find((e) => e.end > dataBytes)!;
    throw new FormatError(
      file,
      `truncated: the header describes ${expected} bytes of tensor data but the file has ${dataBytes}; tensor '${cut.name}' is cut off`,
      cut.name,
    );
  }
  if (expected < dataBytes) {
    throw new FormatError(file, `the header describes ${expected} bytes of tensor data but the file has ${dataBytes} (extra bytes at the end)`);
  }
  return { metadata, entries, dataStart };
}

/** Options for reading tensor files: which tensors to read. */
export interface ReadTensorsOptions {
  /** Read only the tensors this returns true for (the rest are not read from disk). */
  filter?: (name: string) => boolean;
}

/** A safetensors file's metadata and tensors. */
export interface SafetensorsContents {
  metadata: Record<string, string> | undefined;
  tensors: TensorMap;
  /** The dtype each tensor had in the file ('F16', ...), by name. */
  dtypes: Map<string, string>;
}

function decodeEntry(file: string, e: SafetensorsEntry, bytes: Uint8Array): Tensor {
  const dtype = READABLE[e.dtype];
  if (!dtype) throw new FormatError(file, `tensor '${e.name}' has dtype ${e.dtype}, which cannot be read as float32`, e.name);
  return { shape: e.shape.slice(), data: decodeToFloat32(bytes, dtype, numel(e.shape)) };
}

/** Reads a .safetensors file into float32 tensors (F32, F16, BF16, F64 and integer dtypes). */
export function readSafetensors(path: string, options: ReadTensorsOptions = {}): SafetensorsContents {
  return withFile(path, (f: RandomAccessFile) => {
    const header = parseSafetensorsHeader(path, f.size, (pos, len, what) => f.read(pos, len, what));
    // Read in file order (sequential I/O), then list the tensors by name.
    const read: Array<[SafetensorsEntry, Tensor]> = [];
    for (const e of header.entries) {
      if (options.filter && !options.filter(e.name)) continue;
      const bytes = f.read(header.dataStart + e.begin, e.end - e.begin, `tensor '${e.name}'`, e.name);
      read.push([e, decodeEntry(path, e, bytes)]);
    }
    read.sort(([a], [b]) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const tensors: TensorMap = new Map(read.map(([e, t]) => [e.name, t]));
    const dtypes = new Map(read.map(([e]) => [e.name, e.dtype]));
    return { metadata: header.metadata, tensors, dtypes };
  });
}

/** Parses an in-memory safetensors file (`name` is used in errors). */
export function decodeSafetensors(bytes: Uint8Array, name = '<buffer>'): SafetensorsContents {
  const header = parseSafetensorsHeader(name, bytes.length, (pos, len) => bytes.subarray(pos, pos + len));
  const tensors: TensorMap = new Map();
  const dtypes = new Map<string, string>();
  for (const e of header.entries) {
    tensors.set(e.name, decodeEntry(name, e, bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end)));
    dtypes.set(e.name, e.dtype);
  }
  return { metadata: header.metadata, tensors, dtypes };
}

function checkTensorForWrite(name: string, t: Tensor): void {
  if (!t.shape.every(isNonNegativeInt)) throw new RangeError(`tensor '${name}': invalid shape ${shapeString(t.shape)}`);
  if (numel(t.shape) !== t.data.length) {
    throw new RangeError(`tensor '${name}': shape ${shapeString(t.shape)} holds ${numel(t.shape)} values but the data has ${t.data.length}`);
  }
  if (name === '__metadata__' || name.length === 0) throw new RangeError(`invalid tensor name '${name}'`);
}

/** The header and data chunks of a safetensors file holding `tensors` as F32, in name order (metadata null: none). */
export function safetensorsChunks(
  tensors: Iterable<[string, Tensor]>, metadata: Record<string, string> | null = { format: 'pt' },
): Uint8Array[] {
  const sorted = [...tensors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // No prototype, so a tensor named '__proto__' is an ordinary key.
  const header = Object.create(null) as Record<string, unknown>;
  if (metadata) header['__metadata__'] = metadata;
  let offset = 0;
  const seen = new Set<string>();
  for (const [name, t] of sorted) {
    checkTensorForWrite(name, t);
    if (seen.has(name)) throw new RangeError(`duplicate tensor name '${name}'`);
    seen.add(name);
    const size = t.data.length * 4;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  const head = Buffer.alloc(8 + padded, 0x20);
  head.writeBigUInt64LE(BigInt(padded), 0);
  json.copy(head, 8);
  return [head, ...sorted.map(([, t]) => float32Bytes(t.data))];
}

/** safetensors bytes for `tensors` (whole file in memory; for small models and tests). */
export function encodeSafetensors(
  tensors: Iterable<[string, Tensor]>, metadata: Record<string, string> | null = { format: 'pt' },
): Uint8Array {
  return Buffer.concat(safetensorsChunks(tensors, metadata));
}

/** Writes `tensors` as an F32 .safetensors file, atomically (temp file, then rename). */
export function writeSafetensors(
  path: string, tensors: Iterable<[string, Tensor]>, metadata: Record<string, string> | null = { format: 'pt' },
): void {
  writeFileAtomic(path, safetensorsChunks(tensors, metadata));
}
