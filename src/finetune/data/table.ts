// Users' tables for fine-tuning: CSV (RFC 4180 quoting, via csv-parse) and TSV (no quoting, as
// pandas' and the GLUE files' tab-separated text), with a header detected or declared and
// columns chosen by header name or index.
import { extname } from 'node:path';
import { Parser } from 'csv-parse';
import { UsageError } from '../../errors.js';
import { forEachFileLine, forEachTextChunk, lineError, type ChunkedReadOptions, type TsvRow } from './text-file.js';

export type TableFormat = 'csv' | 'tsv' | 'jsonl';

/** A column by 0-based index (negative counts from the end) or by header name. */
export type ColumnRef = number | string;

export interface TableOptions {
  /** null: from the delimiter (',' is CSV) or the file's extension (.csv, .tsv, .txt). */
  format: TableFormat | null;
  /** null: the format's (',' or tab). */
  delimiter: string | null;
}

/** The format of a file: as given, CSV for a ',' delimiter, else by its extension. */
export function tableFormatOf(file: string, opts: TableOptions): TableFormat {
  if (opts.format) return opts.format;
  if (opts.delimiter === ',') return 'csv';
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl') return 'jsonl';
  if (ext === '.tsv' || ext === '.txt' || opts.delimiter !== null) return 'tsv';
  throw new UsageError(`${file}: cannot tell the format from the extension '${ext}'; set 'format' to 'csv', 'tsv' or 'jsonl'`);
}

/**
 * The rows of a CSV or TSV file with the line each starts on. CSV fields may be quoted ("a, b",
 * "say ""hi""", line breaks inside); TSV fields are split at every tab, quotes kept as text.
 * Blank lines are skipped. A quoting error names its line.
 */
export function readTable(file: string, opts: TableOptions, read: ChunkedReadOptions = {}): TsvRow[] {
  const rows: TsvRow[] = [];
  forEachTableRow(file, opts, (row) => {
    rows.push(row);
  }, read);
  return rows;
}

/** A csv-parse stream fed and read in this thread: each write's records are ready when write returns. */
class InlineCsvParser extends Parser {
  /** The end of input was parsed (csv-parse's _flush ran). */
  flushed = false;

  override _flush(callback: (error?: Error | null) => void): void {
    super._flush((error?: Error | null) => {
      this.flushed = true;
      callback(error);
    });
  }
}

/** readTable's rows handed to visit one at a time as the file is read in chunks (memory: a chunk and the row being parsed). */
export function forEachTableRow(file: string, opts: TableOptions, visit: (row: TsvRow) => void, read: ChunkedReadOptions = {}): void {
  const format = tableFormatOf(file, opts);
  if (format === 'jsonl') throw new Error(`${file}: JSON lines are read with readJsonLines`);
  let lastEnd = 0; // where the last good record ended: an unclosed quote opens in the record after it
  const parser = new InlineCsvParser({
    delimiter: opts.delimiter ?? (format === 'csv' ? ',' : '\t'),
    quote: format === 'csv' ? '"' : null,
    record_delimiter: ['\r\n', '\n'],
    relax_column_count: true,
    bom: true,
    info: true,
    on_record: (record, context) => {
      lastEnd = context.lines;
      return record;
    },
  });
  parser.on('error', () => {}); // seen through parser.errored, in this thread
  let previousEnd = 0;
  const take = (): void => {
    for (let r = parser.read() as { record: string[]; info: { lines: number } } | null; r !== null; r = parser.read() as typeof r) {
      const { record, info } = r;
      const line = previousEnd + 1;
      previousEnd = info.lines;
      if (record.length === 1 && record[0]!.trim() === '') continue;
      visit({ line, fields: record });
    }
    const err = parser.errored as (Error & { lines?: number; code?: string }) | null;
    if (err) {
      const line = err.code === 'CSV_QUOTE_NOT_CLOSED' ? lastEnd + 1 : err.lines ?? 1;
      throw lineError(file, line, `${err.message.replace(/ at line \d+/, '')} (expected ${format.toUpperCase()}${format === 'csv' ? ' with RFC 4180 quoting' : ''})`);
    }
  };
  forEachTextChunk(file, (bytes) => {
    parser.write(bytes);
    take();
  }, read);
  parser.end();
  take();
  if (!parser.flushed) throw new Error(`${file}: csv-parse did not finish the table in this thread`);
}

/** The 0-based index of a column (negative ones count from the end); a name is looked up in the header row. */
export function columnIndex(ref: ColumnRef, header: TsvRow | null, file: string, what: string): number {
  if (typeof ref === 'number') return ref;
  if (!header) throw new UsageError(`${file}: '${what}' is given by name (${JSON.stringify(ref)}) but the file has no header line ('header': false)`);
  const i = header.fields.indexOf(ref);
  if (i < 0) throw lineError(file, header.line, `no column named ${JSON.stringify(ref)} for '${what}'; the header has ${header.fields.map((h) => JSON.stringify(h)).join(', ')}`);
  return i;
}

/**
 * A JSON lines file (one object a line) as a table whose header is `keys`: each row holds those
 * keys' values as text. A line that is no JSON object, or lacks a key not in `optional`, or has
 * a value that is no string, number or boolean, is an error naming its line and key.
 */
export function readJsonLines(
  file: string, keys: readonly string[], optional: ReadonlySet<string> = new Set(), read: ChunkedReadOptions = {},
): { header: TsvRow; rows: TsvRow[] } {
  const rows: TsvRow[] = [];
  forEachFileLine(file, (text, line) => {
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw lineError(file, line, `invalid JSON (${(err as Error).message}); expected one JSON object a line`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw lineError(file, line, 'expected a JSON object');
    const record = value as Record<string, unknown>;
    const fields: string[] = [];
    for (const key of keys) {
      const v = record[key];
      if (v === undefined && optional.has(key)) break;
      if (v === undefined) throw lineError(file, line, `no key ${JSON.stringify(key)}; the object has ${Object.keys(record).map((k) => JSON.stringify(k)).join(', ') || 'no keys'}`);
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
        throw lineError(file, line, `key ${JSON.stringify(key)}: expected a string, number or boolean, found ${v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v}`);
      }
      fields.push(String(v));
    }
    rows.push({ line, fields });
  }, read);
  return { header: { line: 0, fields: [...keys] }, rows };
}
