// The fine-tuning readers read their files in chunks: whatever the chunk size (down to one byte, so
// that every quoted line break, CRLF, multi-byte character and byte-order mark is cut somewhere),
// they give the rows and errors of the whole file read at once, and memory does not grow with the file.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { readTable, readJsonLines } from '../../src/finetune/data/table.js';
import { readTsv, type ChunkedReadOptions } from '../../src/finetune/data/text-file.js';
import { readConll } from '../../src/finetune/tagging/conll.js';
import { readTaggedFile } from '../../src/finetune/tagging/readers.js';
import { readChoiceFile } from '../../src/finetune/multiple-choice/data.js';
import { readMrqa } from '../../src/finetune/qa/data.js';
import { TempDir } from './fixtures.js';

const dir = new TempDir();
after(() => dir.remove());

/** Chunk sizes that cut the test files everywhere, and the default (the whole file in one chunk). */
const CHUNKS: ChunkedReadOptions[] = [1, 2, 3, 5, 7, 13, 64, 1000].map((chunkBytes) => ({ chunkBytes }));
const WHOLE: ChunkedReadOptions = {};

/** RFC 4180 from the specification: a field holding the delimiter, a quote or a line break is quoted, its quotes doubled. */
function csvEncode(rows: string[][], eol: string): string {
  const field = (f: string): string => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f);
  return rows.map((r) => r.map(field).join(',') + eol).join('');
}

/** Rows with every awkward thing a CSV field can hold, multi-byte characters of 2, 3 and 4 bytes among them. */
function awkwardRows(n: number): string[][] {
  const texts = ['plain', 'a, comma', 'he said "hi"', 'two\nlines', 'crlf\r\ninside', 'caf\u00e9 \u20ac5 \u{1f600}', '', '  spaced  ', '""', 'end"'];
  return Array.from({ length: n }, (_, i) => [String(i), texts[i % texts.length]!, i % 3 === 0 ? 'pos' : 'neg']);
}

/** The 1-based line each record starts on, counted by the test from the encoded records (LF files, no CR inside fields). */
function startLines(rows: string[][]): number[] {
  const lines: number[] = [];
  let line = 1;
  for (const r of rows) {
    lines.push(line);
    line += (csvEncode([r], '\n').match(/\n/g) ?? []).length;
  }
  return lines;
}

/**
 * The reader before streaming, as the oracle of line numbers: csv-parse's one-shot parser over the
 * whole text, each record's line one past where the record before it ended (csv-parse counts a
 * quoted CRLF as two lines; the streaming reader must agree).
 */
function wholeFileRecords(text: string): { line: number; fields: string[] }[] {
  const records = parse(text.replace(/^\ufeff/, ''), { relax_column_count: true, record_delimiter: ['\r\n', '\n'], info: true }) as unknown as { record: string[]; info: { lines: number } }[];
  let previousEnd = 0;
  return records.map(({ record, info }) => {
    const line = previousEnd + 1;
    previousEnd = info.lines;
    return { line, fields: record };
  });
}

test('CSV and TSV read in chunks of any size: the rows and start lines of the file read whole', () => {
  const rows = [['id', 'text', 'label'], ...awkwardRows(60)];
  for (const eol of ['\r\n', '\n']) {
    const text = '\ufeff' + csvEncode(rows, eol);
    const file = dir.write(`awkward-${eol.length}.csv`, text);
    const whole = wholeFileRecords(text);
    assert.deepEqual(whole.map((r) => r.fields), rows);
    for (const read of [WHOLE, ...CHUNKS]) assert.deepEqual(readTable(file, { format: null, delimiter: null }, read), whole, `chunk ${read.chunkBytes}`);
  }
  // Start lines counted by the test where no field holds a CR.
  const lf = [['id', 'text', 'label'], ...awkwardRows(60).filter((r) => !r[1]!.includes('\r'))];
  const lfFile = dir.write('lf.csv', csvEncode(lf, '\n'));
  for (const read of [WHOLE, ...CHUNKS]) {
    assert.deepEqual(readTable(lfFile, { format: null, delimiter: null }, read).map((r) => r.line), startLines(lf), `chunk ${read.chunkBytes}`);
  }
  // TSV: no quoting, blank lines skipped, multi-byte characters cut anywhere.
  const tsv = dir.write('t.tsv', 'a\t"b\n\n\u00e9\u20ac\t\u{1f600}"x\r\nlast\tline');
  for (const read of [WHOLE, ...CHUNKS]) {
    assert.deepEqual(readTable(tsv, { format: null, delimiter: null }, read).map((r) => [r.line, r.fields]),
      [[1, ['a', '"b']], [3, ['\u00e9\u20ac', '\u{1f600}"x']], [4, ['last', 'line']]], `chunk ${read.chunkBytes}`);
  }
});

test('CSV errors name the same line for every chunk size, after quoted line breaks that span chunks', () => {
  const goodText = csvEncode(awkwardRows(40), '\n');
  const badLine = wholeFileRecords(goodText + 'x\n').at(-1)!.line;
  assert.ok(badLine > 40);
  const cases: [string, string, RegExp][] = [
    ['stray.csv', goodText + '"quoted" text,pos\nmore,neg\n', new RegExp(`stray\\.csv:${badLine}: Invalid Closing Quote`)],
    ['unclosed.csv', goodText + '"never closed,pos\nmore,neg\n', new RegExp(`unclosed\\.csv:${badLine}: Quote Not Closed.*expected CSV with RFC 4180 quoting`)],
  ];
  for (const [name, text, expected] of cases) {
    const file = dir.write(name, text);
    for (const read of [WHOLE, ...CHUNKS]) assert.throws(() => readTable(file, { format: null, delimiter: null }, read), expected, `chunk ${read.chunkBytes}`);
  }
});

test('bad UTF-8 is found before any parsing, with its line and byte offset, whatever the chunk size', () => {
  // A quoting error on line 2, bad bytes on line 4: the bytes are reported, as when the file was decoded whole.
  const head = Buffer.from('text,label\n"open,pos\n\u00e9\u00e9,neg\nab');
  const bad = Buffer.concat([head, Buffer.from([0xe2, 0x28, 0xa1]), Buffer.from(',pos\n')]);
  const file = dir.write('bad-utf8.csv', bad);
  for (const read of [WHOLE, ...CHUNKS]) {
    assert.throws(() => readTable(file, { format: null, delimiter: null }, read),
      new RegExp(`bad-utf8\\.csv:4: invalid UTF-8 at byte offset ${head.length}; expected UTF-8 text`), `chunk ${read.chunkBytes}`);
  }
  // A character cut off by the end of the file.
  const cut = Buffer.concat([Buffer.from('a\tb\nc\t'), Buffer.from([0xf0, 0x9f, 0x98])]);
  const cutFile = dir.write('cut.tsv', cut);
  for (const read of [WHOLE, ...CHUNKS]) {
    assert.throws(() => readTsv(cutFile, undefined, '\t', read), /cut\.tsv:2: invalid UTF-8 at byte offset 6/, `chunk ${read.chunkBytes}`);
  }
  assert.throws(() => readTsv(dir.path + '/missing.tsv'), /data file not found: .*missing\.tsv/);
});

test('line readers in chunks: TSV, JSON lines, CoNLL, word/TAG, multiple choice and MRQA as read whole; errors on the right line', () => {
  const lines = Array.from({ length: 30 }, (_, i) => `w${i}\u00e9\t\u{1f600}${i}`);
  const tsv = dir.write('lines.tsv', lines.join('\r\n') + '\r\n\r\nlast');
  const jsonl = dir.write('lines.jsonl', lines.map((l, i) => JSON.stringify({ text: l, label: i % 2 === 0 })).join('\n') + '\n\n');
  const conll = dir.write('lines.conll', '-DOCSTART- O\n\n' + lines.map((l, i) => `${l.split('\t')[0]} NN ${i % 5 === 4 ? 'O\n' : 'B'}`).join('\n'));
  const wordTag = dir.write('lines.txt', lines.map((l) => `${l.split('\t')[0]}/NN caf\u00e9/JJ 1/2/CD`).join('\n'));
  const choices = dir.write('choice.jsonl', lines.map((l, i) => JSON.stringify({ context: l, choices: ['a\u00e9', 'b'], label: i % 2 })).join('\n'));
  const mrqa = dir.write('mrqa.jsonl', [JSON.stringify({ header: { dataset: 'x' } }), ...lines.map((l, i) => JSON.stringify({
    context: `${l} answer here`, qas: [{ qid: `q${i}`, question: 'where?', answers: ['answer'], detected_answers: [{ text: 'answer', char_spans: [[l.length + 1, l.length + 6]] }] }],
  }))].join('\n'));
  const readAll = (read: ChunkedReadOptions) => ({
    tsv: readTsv(tsv, undefined, '\t', read),
    first3: readTsv(tsv, 3, '\t', read),
    jsonl: readJsonLines(jsonl, ['text', 'label'], new Set(), read),
    conll: readConll(conll, {}, undefined, read),
    wordTag: readTaggedFile(wordTag, { format: null, wordColumn: 0, tagColumn: -1, tagSeparator: '/' }, read),
    choices: readChoiceFile(choices, { taskName: 'c', labelled: true }, read),
    mrqa: readMrqa(mrqa, { split: 'train', taskName: 'm' }, read).examples.map((e) => [e.id, e.answers]),
  });
  const whole = readAll(WHOLE);
  // What the files hold, counted by the test.
  assert.deepEqual(whole.tsv.map((r) => r.line), Array.from({ length: 32 }, (_, i) => i + 1));
  assert.deepEqual(whole.tsv[0]!.fields, ['w0\u00e9', '\u{1f600}0']);
  assert.deepEqual(whole.tsv.slice(30).map((r) => r.fields), [[], ['last']]);
  assert.deepEqual(whole.first3, whole.tsv.slice(0, 3));
  assert.deepEqual(whole.jsonl.rows.map((r) => r.fields), lines.map((l, i) => [l, String(i % 2 === 0)]));
  assert.deepEqual(whole.conll.map((s) => s.words.length), [5, 5, 5, 5, 5, 5]);
  assert.deepEqual(whole.conll[1]!.line, 9);
  assert.equal(whole.wordTag.length, 30);
  assert.deepEqual(whole.wordTag[7], { words: ['w7\u00e9', 'caf\u00e9', '1/2'], tags: ['NN', 'JJ', 'CD'], line: 8, file: wordTag, oneLine: true });
  assert.equal(whole.choices.length, 30);
  assert.equal(whole.mrqa.length, 30);
  for (const read of CHUNKS) assert.deepEqual(readAll(read), whole, `chunk ${read.chunkBytes}`);

  // Errors name their line for every chunk size.
  const badTag = dir.write('bad.txt', lines.slice(0, 12).map((l) => `${l.split('\t')[0]}/NN`).join('\n') + '\nok/NN notag\n');
  const badConll = dir.write('bad.conll', 'a B\n\nb B\nlonely\n');
  const badJson = dir.write('bad.jsonl', lines.slice(0, 9).map((l) => JSON.stringify({ text: l, label: 1 })).join('\r\n') + '\r\n{"text": "x"}\r\n');
  for (const read of [WHOLE, ...CHUNKS]) {
    assert.throws(() => readTaggedFile(badTag, { format: 'word_tag', wordColumn: 0, tagColumn: -1, tagSeparator: '/' }, read), /bad\.txt:13: token 2 "notag" is not word\/TAG/);
    assert.throws(() => readConll(badConll, {}, undefined, read), /bad\.conll:4: expected at least 2 whitespace-separated columns/);
    assert.throws(() => readJsonLines(badJson, ['text', 'label'], new Set(), read), /bad\.jsonl:10: no key "label"/);
  }
});

test('memory does not grow with the file: a 64 MiB CSV read as a table and as lines in a child process', () => {
  const mib = 64;
  // Rows of quoted multi-line text, a CSV of `mib` MiB (written in pieces, so the test itself stays small).
  const field = 'a quoted "text", with a line\nbreak and caf\u00e9 '.repeat(20);
  const row = csvEncode([['1', field, 'pos']], '\n');
  const block = Buffer.from(row.repeat(Math.ceil((1 << 20) / row.length)));
  const file = `${dir.path}/big.csv`;
  const fd = openSync(file, 'w');
  for (let i = 0; i < mib; i++) writeSync(fd, block);
  closeSync(fd);
  const rowsPerBlock = block.length / Buffer.byteLength(row);
  const table = new URL('../../src/finetune/data/table.js', import.meta.url).href;
  const text = new URL('../../src/finetune/data/text-file.js', import.meta.url).href;
  const script = `import { forEachTableRow } from ${JSON.stringify(table)};
    import { forEachFileLine } from ${JSON.stringify(text)};
    const before = process.memoryUsage().rss;
    let rows = 0, lines = 0, chars = 0;
    forEachTableRow(${JSON.stringify(file)}, { format: null, delimiter: null }, (r) => { rows++; chars += r.fields[1].length; });
    forEachFileLine(${JSON.stringify(file)}, () => { lines++; });
    process.stdout.write(JSON.stringify({ rows, lines, chars, grewMiB: (process.resourceUsage().maxRSS * 1024 - before) / 2 ** 20 }));`;
  // A small young generation and heap: garbage is collected as it is made, so the peak is what the reader holds.
  const r = spawnSync(process.execPath, ['--max-old-space-size=32', '--max-semi-space-size=1', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout) as { rows: number; lines: number; chars: number; grewMiB: number };
  assert.equal(got.rows, mib * rowsPerBlock);
  assert.equal(got.chars, got.rows * field.length);
  assert.equal(got.lines, mib * rowsPerBlock * (row.split('\n').length - 1));
  // Reading the file whole holds its bytes and its text at once, twice its size; in chunks it stays well under its size.
  assert.ok(got.grewMiB < mib, `peak memory grew by ${got.grewMiB.toFixed(0)} MiB reading a ${mib} MiB file`);
});
