// Streaming line reader with the reference's line semantics: the original reads corpus files through
// TensorFlow's GFile, whose readline splits on '\n' only and drops every '\r' byte, then decodes each
// line as strict UTF-8. Memory stays bounded by the chunk size (plus the longest line).
import { closeSync, openSync, readSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { firstInvalidUtf8 } from '../util/text.js';
import { FormatError } from '../errors.js';

/** A corpus file that cannot be read, or holds bytes that are not UTF-8. */
export class CorpusFileError extends FormatError {
  constructor(file: string, message: string) {
    super(file, message);
    this.name = 'CorpusFileError';
  }
}

export interface LineReadOptions {
  /** Skip lines with invalid UTF-8 (reporting each through onWarning) instead of failing. */
  skipInvalidUtf8?: boolean;
  onWarning?: (message: string) => void;
  /** Called after each chunk with the number of bytes just consumed from the file. */
  onBytes?: (bytes: number) => void;
  /** Read size; lines may span chunks. */
  chunkBytes?: number;
  /** A line longer than this is refused, so that a file without newlines cannot exhaust memory. */
  maxLineBytes?: number;
  /**
   * Only the lines whose first byte lies in [start, end) of the file (end: Infinity for the rest of
   * it): consecutive ranges deliver every line exactly once, so that parts of a file can be read
   * apart (by different threads). Errors still name the line's number in the whole file.
   */
  byteRange?: { start: number; end: number };
}

export interface LineReadResult {
  lines: number;
  bytes: number;
  skippedLines: number;
}

const NEWLINE = 0x0a;
const CR = 0x0d;
let spareBuffer: Buffer | null = null;
const DEFAULT_CHUNK = 1 << 20;
const DEFAULT_MAX_LINE = 64 << 20;

/** Visits the line text[start, end). */
export type LineRangeVisitor = (text: string, start: number, end: number) => void;

/**
 * Calls onLine for every line of the file, in order, without its '\n' and with all '\r' removed.
 * A final line without '\n' is a line; an empty final piece is not. Throws CorpusFileError naming
 * the file, line and byte offset on invalid UTF-8 unless skipInvalidUtf8 is set. Each line is a
 * string of its own (safe to keep).
 */
export function forEachLine(file: string, onLine: (line: string) => void, options: LineReadOptions = {}): LineReadResult {
  return drain(readLines(file, options, onLine, null));
}

/**
 * forEachLine for a consumer that does not keep the lines: each line is a range of a larger text
 * (usually a whole chunk of the file, decoded at once), so that no string is made per line.
 * A string holding a slice of it would keep the whole chunk alive.
 */
export function forEachLineRange(file: string, onLine: LineRangeVisitor, options: LineReadOptions = {}): LineReadResult {
  return drain(readLines(file, options, null, onLine));
}

/**
 * forEachLineRange one chunk at a time: each next() reads and delivers one chunk's lines, so that a
 * caller on the main thread can let its event loop run in between. Ending it early (return())
 * closes the file.
 */
export function lineRangeSteps(file: string, onLine: LineRangeVisitor, options: LineReadOptions = {}): Generator<void, LineReadResult, void> {
  return readLines(file, options, null, onLine);
}

/** Runs steps to the end and returns their result. */
export function drain<T>(steps: Generator<void, T, void>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

function* readLines(
  file: string, options: LineReadOptions, onLine: ((line: string) => void) | null, onRange: LineRangeVisitor | null,
): Generator<void, LineReadResult, void> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK;
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE;
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new CorpusFileError(file, `cannot open: ${(e as Error).message}`);
  }
  // One read buffer is reused from file to file (allocating a fresh megabyte per small file costs).
  let buf = spareBuffer && spareBuffer.length === chunkBytes ? spareBuffer : Buffer.allocUnsafe(chunkBytes);
  spareBuffer = null;
  let pending = 0; // bytes at the start of buf that belong to an unfinished line
  let bufFileOffset = 0; // file offset of buf[0]
  let lineNo = 0; // lines delivered or skipped so far
  let skippedLines = 0;
  const rangeEnd = options.byteRange?.end ?? Infinity;
  let startOffset = 0; // where the range's first line starts
  let endOffset = 0; // where the last byte read for the range's lines ends
  let linesBefore = -1; // lines of the file before the range: counted only for an error message
  const lineNumber = (): number => {
    if (linesBefore < 0) linesBefore = startOffset > 0 ? countNewlines(fd, startOffset) : 0;
    return linesBefore + lineNo;
  };

  // Delivers the '\n'-separated lines in buf[start, end) (end excludes the final line's '\n'). For
  // onLine each line is decoded on its own, not sliced out of one big chunk string: strings sliced
  // from a chunk keep the whole chunk alive for as long as any piece of them is referenced, which
  // would let memory grow with the corpus. onRange gets the chunk decoded once when it is valid
  // UTF-8 without '\r'.
  const deliver = onLine ?? ((line: string): void => onRange!(line, 0, line.length));
  const emitPiece = (start: number, end: number): void => {
    const piece = buf.subarray(start, end);
    const valid = isUtf8(piece);
    if (onRange && valid && piece.indexOf(CR) < 0) {
      const text = piece.toString('utf8');
      for (let from = 0; ; ) {
        let to = text.indexOf('\n', from);
        if (to < 0) to = text.length;
        lineNo++;
        onRange(text, from, to);
        if (to === text.length) break;
        from = to + 1;
      }
      return;
    }
    let lineStart = start;
    for (;;) {
      let lineEnd = buf.indexOf(NEWLINE, lineStart);
      if (lineEnd < 0 || lineEnd > end) lineEnd = end;
      lineNo++;
      const bad = valid ? -1 : firstInvalidUtf8(buf.subarray(lineStart, lineEnd));
      if (bad < 0) {
        const line = buf.toString('utf8', lineStart, lineEnd);
        deliver(line.includes('\r') ? line.replaceAll('\r', '') : line);
      } else {
        const where = `invalid UTF-8 at byte offset ${bufFileOffset + lineStart + bad} (line ${lineNumber()})`;
        if (!options.skipInvalidUtf8) {
          throw new CorpusFileError(file, `${where}; expected UTF-8 text (use --skip-invalid-utf8 to skip such lines)`);
        }
        skippedLines++;
        options.onWarning?.(`${file}: ${where}; line skipped`);
      }
      if (lineEnd >= end) break;
      lineStart = lineEnd + 1;
    }
  };

  try {
    if (options.byteRange && options.byteRange.start > 0) {
      // A line belongs to the range holding its first byte: skip the end of the line that started before.
      startOffset = lineStartFrom(fd, buf, options.byteRange.start);
      bufFileOffset = startOffset;
    }
    for (;;) {
      // The line that starts here belongs to the next range.
      if (bufFileOffset >= rangeEnd) {
        endOffset = bufFileOffset;
        break;
      }
      if (pending === buf.length) {
        if (buf.length >= maxLineBytes) {
          throw new CorpusFileError(file, `line ${lineNumber() + 1} at byte offset ${bufFileOffset} is longer than ${maxLineBytes} bytes; expected text with line breaks`);
        }
        const grown = Buffer.allocUnsafe(Math.min(buf.length * 2, maxLineBytes));
        buf.copy(grown, 0, 0, pending);
        buf = grown;
      }
      let n: number;
      try {
        n = readSync(fd, buf, pending, buf.length - pending, bufFileOffset + pending);
      } catch (e) {
        throw new CorpusFileError(file, `read failed at byte offset ${bufFileOffset + pending}: ${(e as Error).message}`);
      }
      if (n === 0) {
        if (pending > 0) {
          // TF's readline returns a last line without '\n' only if it is non-empty once '\r' is dropped.
          let onlyCR = true;
          for (let i = 0; i < pending; i++) if (buf[i] !== 0x0d) { onlyCR = false; break; }
          if (!onlyCR) emitPiece(0, pending);
          options.onBytes?.(pending);
        }
        endOffset = bufFileOffset + pending;
        break;
      }
      const end = pending + n;
      let lastNewline = buf.lastIndexOf(NEWLINE, end - 1);
      if (lastNewline < pending) {
        pending = end;
        continue;
      }
      // The range ends with the line holding byte rangeEnd - 1 (one of the complete lines here, or a later one).
      const lastInRange = rangeEnd - 1 - bufFileOffset;
      if (lastInRange <= lastNewline) lastNewline = buf.indexOf(NEWLINE, lastInRange);
      emitPiece(0, lastNewline);
      const consumed = lastNewline + 1;
      options.onBytes?.(consumed);
      buf.copy(buf, 0, consumed, end);
      bufFileOffset += consumed;
      pending = end - consumed;
      yield;
    }
  } finally {
    closeSync(fd);
    if (buf.length === chunkBytes) spareBuffer = buf;
  }
  return { lines: lineNo, bytes: endOffset - startOffset, skippedLines };
}

/** The file offset of the first line that starts at or after `offset` (> 0): past the next '\n' unless byte offset - 1 is one. */
function lineStartFrom(fd: number, buf: Buffer, offset: number): number {
  for (let at = offset - 1; ; ) {
    const n = readSync(fd, buf, 0, buf.length, at);
    if (n === 0) return at; // end of file: the range holds no line
    const newline = buf.indexOf(NEWLINE);
    if (newline >= 0 && newline < n) return at + newline + 1;
    at += n;
  }
}

/** The number of '\n' in the file's first `bytes` bytes. */
export function countNewlines(fd: number, bytes: number): number {
  const buf = Buffer.allocUnsafe(1 << 16);
  let count = 0;
  for (let at = 0; at < bytes; ) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, bytes - at), at);
    if (n === 0) break;
    for (let i = buf.indexOf(NEWLINE); i >= 0 && i < n; i = buf.indexOf(NEWLINE, i + 1)) count++;
    at += n;
  }
  return count;
}

/** Python's str.isspace() characters: what the reference's line.strip() removes. */
export function isPythonSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f);
  if (c < 0x85) return false;
  return (
    c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000
  );
}

/** Python's `str.strip()` with no argument (JS trim() differs: it strips U+FEFF, keeps U+001C-U+001F and U+0085). */
export function pythonStrip(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isPythonSpace(s.charCodeAt(start))) start++;
  while (end > start && isPythonSpace(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}
