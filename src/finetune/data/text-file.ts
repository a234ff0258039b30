// Reading the raw fine-tuning files: lines with their numbers, TSV rows as the reference's
// csv.reader(delimiter='\t', quotechar=None) gives them (no quoting: one row per line, fields
// split at every tab).
import { readFileSync } from 'node:fs';
import { FormatError, UsageError } from '../../errors.js';
import { decodeUtf8Strict, InvalidUtf8Error } from '../../util/text.js';

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
export function readTsv(path: string, maxLines?: number, delimiter = '\t'): TsvRow[] {
  const lines = splitLines(readTextFile(path));
  const n = maxLines === undefined ? lines.length : Math.min(maxLines, lines.length);
  const rows: TsvRow[] = [];
  for (let i = 0; i < n; i++) rows.push({ line: i + 1, fields: lines[i] === '' ? [] : lines[i]!.split(delimiter) });
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
