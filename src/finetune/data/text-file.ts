// Reading the raw fine-tuning files: lines with their numbers, TSV rows as the reference's
// csv.reader(delimiter='\t', quotechar=None) gives them (no quoting: one row per line, fields
// split at every tab). Line files are read in chunks (memory bounded by the chunk and the longest
// line, beyond what the caller keeps), after a first pass has checked that the whole file is UTF-8,
// so that bad bytes are reported before any line is handed on, as when the file was read whole.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { FormatError, UsageError } from '../../errors.js';
import { decodeUtf8Strict, firstInvalidUtf8, InvalidUtf8Error } from '../../util/text.js';
import { countNewlines } from '../../data/text-lines.js';

/** A UTF-8 file's text; a missing file is a usage error naming the path, bytes that are not UTF-8 an error naming the line. */
export function readTextFile(path: string, what = 'data file'): string {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`${what} not found: ${path}`);
    throw new UsageError(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
  try {
    return decodeUtf8Strict(bytes, path);
  } catch (err) {
    if (err instanceof InvalidUtf8Error) {
      throw lineError(path, err.line, `invalid UTF-8 at byte offset ${err.byteOffset}; expected UTF-8 text (re-save the file as UTF-8)`);
    }
    throw err;
  }
}

/** How the chunked readers read a file. */
export interface ChunkedReadOptions {
  /** Bytes read at a time (tests use tiny ones; default 64 KiB). */
  chunkBytes?: number;
  /** What the file is, for a missing file's message (default 'data file'). */
  what?: string;
}

const DEFAULT_CHUNK_BYTES = 1 << 16;

function openDataFile(path: string, what: string): number {
  try {
    return openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`${what} not found: ${path}`);
    throw new UsageError(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

function readChunk(fd: number, buf: Buffer, at: number, length: number, position: number, path: string, what: string): number {
  try {
    return readSync(fd, buf, at, length, position);
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

/** Where bytes[0, end) stops being whole UTF-8 characters: before a trailing lead byte whose sequence is cut off. */
function wholeCharsEnd(bytes: Uint8Array, end: number): number {
  for (let i = end - 1; i >= 0 && i >= end - 3; i--) {
    const b = bytes[i]!;
    if (b < 0x80) return end;
    if (b >= 0xc0) {
      const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return end - i < length ? i : end;
    }
  }
  return end;
}

/** The chunks of a file as they are read, each ending on a whole character (the cut-off bytes lead the next). */
function* fileChunks(path: string, fd: number, chunkBytes: number, what: string): Generator<Buffer> {
  let carry: Buffer | null = null;
  for (let position = 0; ;) {
    const buf = Buffer.allocUnsafe(chunkBytes + (carry?.length ?? 0));
    const kept: number = carry ? carry.copy(buf) : 0;
    const n: number = readChunk(fd, buf, kept, chunkBytes, position, path, what);
    position += n;
    const end: number = kept + n;
    if (n === 0) {
      if (end > 0) yield buf.subarray(0, end);
      return;
    }
    const whole = wholeCharsEnd(buf, end);
    carry = whole < end ? Buffer.from(buf.subarray(whole, end)) : null;
    if (whole > 0) yield buf.subarray(0, whole);
  }
}

/**
 * Calls onChunk with the text of a UTF-8 file in chunks (a leading byte-order mark dropped; each
 * chunk a buffer of its own, cut between characters) until it returns false. The whole file is
 * first checked to be UTF-8: bad bytes are an error naming the line, before any chunk is handed on.
 */
export function forEachTextChunk(path: string, onChunk: (bytes: Buffer) => boolean | void, opts: ChunkedReadOptions = {}): void {
  const chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new RangeError(`chunkBytes must be a positive integer, got ${chunkBytes}`);
  const what = opts.what ?? 'data file';
  const fd = openDataFile(path, what);
  try {
    let offset = 0;
    for (const chunk of fileChunks(path, fd, chunkBytes, what)) {
      if (!isUtf8(chunk)) {
        const at = offset + Math.max(0, firstInvalidUtf8(chunk));
        throw lineError(path, 1 + countNewlines(fd, at), `invalid UTF-8 at byte offset ${at}; expected UTF-8 text (re-save the file as UTF-8)`);
      }
      offset += chunk.length;
    }
    let first = true;
    for (let chunk of fileChunks(path, fd, chunkBytes, what)) {
      if (first && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
      first = false;
      if (chunk.length > 0 && onChunk(chunk) === false) return;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Calls onLine with each line of a UTF-8 file and its 1-based number, as splitLines(readTextFile(path))
 * gives them, reading the file in chunks, until onLine returns false.
 */
export function forEachFileLine(path: string, onLine: (text: string, line: number) => boolean | void, opts: ChunkedReadOptions = {}): void {
  let partial = '';
  let line = 0;
  let stopped = false;
  const deliver = (text: string): boolean => {
    line++;
    stopped = onLine(text.endsWith('\r') ? text.slice(0, -1) : text, line) === false;
    return !stopped;
  };
  forEachTextChunk(path, (bytes) => {
    const text = bytes.toString('utf8');
    for (let from = 0; ;) {
      const end = text.indexOf('\n', from);
      if (end < 0) {
        partial += text.slice(from);
        return true;
      }
      const piece = text.slice(from, end);
      const whole = partial === '' ? piece : partial + piece;
      partial = '';
      if (!deliver(whole)) return false;
      from = end + 1;
    }
  }, opts);
  if (!stopped && partial !== '') deliver(partial);
}

/** Lines without their '\n' or '\r\n' endings; no entry for the text after a final newline. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

export interface TsvRow {
  /** 1-based line number in the file. */
  line: number;
  fields: string[];
}

/** Rows of a tab-separated (or `delimiter`-separated) file; an empty line is a row with no fields, as csv.reader gives. */
export function readTsv(path: string, maxLines?: number, delimiter = '\t', opts: ChunkedReadOptions = {}): TsvRow[] {
  const rows: TsvRow[] = [];
  if (maxLines !== undefined && maxLines <= 0) {
    forEachTextChunk(path, () => false, opts); // still a missing or non-UTF-8 file's error
    return rows;
  }
  forEachFileLine(path, (text, line) => {
    rows.push({ line, fields: text === '' ? [] : text.split(delimiter) });
    return maxLines === undefined || rows.length < maxLines;
  }, opts);
  return rows;
}

/** Python's list indexing: negative counts from the end; undefined when out of range. */
export function pyIndex<T>(list: readonly T[], index: number): T | undefined {
  const i = index < 0 ? list.length + index : index;
  return i >= 0 && i < list.length ? list[i] : undefined;
}

/** A data error at a line of a file: "path:line: message". */
export function lineError(path: string, line: number, message: string): FormatError {
  return new FormatError(`${path}:${line}`, message);
}

/** Characters Python's str.split() treats as whitespace (str.isspace). */
const PY_WHITESPACE = '\\t\\n\\v\\f\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_WHITESPACE_RUN = new RegExp(`[${PY_WHITESPACE}]+`, 'u');

/** Python's `s.split()`: runs of whitespace separate, no empty strings. */
export function pythonSplit(s: string): string[] {
  return s.split(PY_WHITESPACE_RUN).filter((t) => t !== '');
}
