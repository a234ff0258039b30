import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CorpusFileError, forEachLine, forEachLineRange, pythonStrip, type LineReadOptions } from '../../src/data/text-lines.js';
import { firstInvalidUtf8 } from '../../src/util/text.js';
import { tempDir } from './helpers.js';

/** The lines of a file by forEachLine, checked equal to forEachLineRange's (ranges of decoded chunks). */
function linesIn(file: string, options: LineReadOptions = {}): { lines: string[]; lineCount: number; bytes: number } {
  const lines: string[] = [];
  const r = forEachLine(file, (l) => lines.push(l), options);
  const ranged: string[] = [];
  const r2 = forEachLineRange(file, (text, start, end) => ranged.push(text.slice(start, end)), options);
  assert.deepEqual(ranged, lines, 'forEachLineRange gives the lines forEachLine gives');
  assert.deepEqual(r2, r);
  return { lines, lineCount: r.lines, bytes: r.bytes };
}

function linesOf(bytes: Buffer | string, chunkBytes?: number): string[] {
  const { dir, cleanup } = tempDir('lines');
  try {
    const file = join(dir, 'f.txt');
    writeFileSync(file, bytes);
    const r = linesIn(file, { chunkBytes });
    assert.equal(r.lineCount, r.lines.length);
    assert.equal(r.bytes, Buffer.byteLength(bytes));
    return r.lines;
  } finally {
    cleanup();
  }
}

test('lines split on \\n only, every \\r dropped, final line kept, empty final piece not a line', () => {
  assert.deepEqual(linesOf('a\nb'), ['a', 'b']);
  assert.deepEqual(linesOf('a\nb\n'), ['a', 'b']);
  assert.deepEqual(linesOf('a\r\n\r\nb\rc\r'), ['a', '', 'bc']);
  assert.deepEqual(linesOf(''), []);
  assert.deepEqual(linesOf('\n\n'), ['', '']);
  assert.deepEqual(linesOf('x\n\r'), ['x']);
});

test('tiny chunks give the same lines, also with multi-byte characters across chunk edges', () => {
  const text = 'héllo wörld\n\u4e2d\u6587 \u{1F600}\n\nlast line without newline é';
  const whole = linesOf(text);
  for (const chunk of [1, 2, 3, 5, 7]) assert.deepEqual(linesOf(text, chunk), whole, `chunk ${chunk}`);
  assert.deepEqual(whole, ['héllo wörld', '\u4e2d\u6587 \u{1F600}', '', 'last line without newline é']);
});

test('chunks with and without \\r, many lines per chunk: ranges and strings agree', () => {
  const lines = Array.from({ length: 500 }, (_, i) => (i % 7 === 0 ? '' : `line ${i} ${'ü'.repeat(i % 5)}${i % 11 === 0 ? '\r' : ''}`));
  const text = lines.join('\n');
  const expected = lines.map((l) => l.replaceAll('\r', ''));
  for (const chunk of [64, 1000, 1 << 20]) assert.deepEqual(linesOf(text, chunk), expected, `chunk ${chunk}`);
});

test('invalid UTF-8 names the file, byte offset and line; skipping warns per line', () => {
  const { dir, cleanup } = tempDir('utf8');
  try {
    const file = join(dir, 'bad.txt');
    // Line 3 holds a lone continuation byte at file offset 10 (after 'one\ntwo\nab').
    writeFileSync(file, Buffer.concat([Buffer.from('one\ntwo\nab'), Buffer.from([0x80]), Buffer.from('c\nfour\n')]));
    assert.throws(() => forEachLine(file, () => {}), (e: unknown) => {
      assert.ok(e instanceof CorpusFileError);
      assert.match(e.message, /bad\.txt: invalid UTF-8 at byte offset 10 \(line 3\)/);
      return true;
    });
    assert.throws(() => forEachLineRange(file, () => {}), /bad\.txt: invalid UTF-8 at byte offset 10 \(line 3\)/);
    const lines: string[] = [];
    const warnings: string[] = [];
    const r = forEachLine(file, (l) => lines.push(l), { skipInvalidUtf8: true, onWarning: (w) => warnings.push(w) });
    assert.deepEqual(lines, ['one', 'two', 'four']);
    assert.equal(r.skippedLines, 1);
    assert.equal(warnings.length, 1);
    assert.deepEqual(linesIn(file, { skipInvalidUtf8: true, onWarning: (w) => warnings.push(w) }).lines, lines);
    assert.equal(warnings.length, 3, 'each reader warned once');
    assert.match(warnings[0]!, /byte offset 10 \(line 3\); line skipped/);
  } finally {
    cleanup();
  }
});

test('firstInvalidUtf8 rejects overlongs, surrogates, code points above U+10FFFF and truncation', () => {
  assert.equal(firstInvalidUtf8(Buffer.from('ok é \u{10FFFF}')), -1);
  assert.equal(firstInvalidUtf8(Buffer.from([0x61, 0xc0, 0xaf])), 1); // overlong '/'
  assert.equal(firstInvalidUtf8(Buffer.from([0xed, 0xa0, 0x80])), 0); // surrogate D800
  assert.equal(firstInvalidUtf8(Buffer.from([0xf4, 0x90, 0x80, 0x80])), 0); // U+110000
  assert.equal(firstInvalidUtf8(Buffer.from([0x61, 0x62, 0xe2, 0x82])), 2); // cut short
});

test('missing files and over-long lines give clear errors', () => {
  const { dir, cleanup } = tempDir('errors');
  try {
    assert.throws(() => forEachLine(join(dir, 'nope.txt'), () => {}), /nope\.txt: cannot open/);
    const file = join(dir, 'long.txt');
    writeFileSync(file, 'x'.repeat(100));
    assert.throws(() => forEachLine(file, () => {}, { chunkBytes: 16, maxLineBytes: 64 }), /long\.txt: line 1 .* longer than 64 bytes/);
  } finally {
    cleanup();
  }
});

test('pythonStrip removes what Python str.strip() removes, not what JS trim() removes', () => {
  assert.equal(pythonStrip(' \t a b \r\n'), 'a b');
  assert.equal(pythonStrip('\x1c\x1fword\x85'), 'word');
  assert.equal(pythonStrip('\u3000\u2028x\u00a0'), 'x');
  assert.equal(pythonStrip('\ufeffx'), '\ufeffx');
  assert.equal(pythonStrip('\x0b\x0c'), '');
});

test('byte ranges: consecutive ranges deliver every line once, as the whole file does; errors count lines in the whole file', () => {
  const { dir, cleanup } = tempDir('ranges');
  try {
    const file = join(dir, 'f.txt');
    // CRs, blank lines, multi-byte characters (split points fall inside them), no final newline.
    const text = Array.from({ length: 60 }, (_, i) => (i % 9 === 0 ? '' : `l${i} ${'é\u4e2d'.repeat(i % 4)}${i % 5 === 0 ? '\r' : ''}`)).join('\n') + '\nlast é';
    writeFileSync(file, text);
    const size = Buffer.byteLength(text);
    const whole: string[] = [];
    const r = forEachLine(file, (l) => whole.push(l));
    for (const step of [1, 2, 3, 7, 50, size - 1, size]) {
      for (const chunkBytes of [4, 1 << 20]) {
        const lines: string[] = [];
        let count = 0;
        let bytes = 0;
        for (let start = 0; start < size; start += step) {
          const end = start + step >= size ? Infinity : start + step;
          const part = forEachLineRange(file, (t, s, e) => lines.push(t.slice(s, e)), { byteRange: { start, end }, chunkBytes });
          count += part.lines;
          bytes += part.bytes;
        }
        assert.deepEqual(lines, whole, `ranges of ${step} bytes, chunks of ${chunkBytes}`);
        assert.equal(count, r.lines);
        assert.equal(bytes, size);
      }
    }
    // 'ab\n' x 5, then a bad byte on line 6 at offset 16: a range starting later in the file still says line 6.
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, Buffer.concat([Buffer.from('ab\n'.repeat(5)), Buffer.from([0x61, 0xff]), Buffer.from('\nok\n')]));
    assert.throws(() => forEachLineRange(bad, () => {}, { byteRange: { start: 7, end: Infinity } }), /bad\.txt: invalid UTF-8 at byte offset 16 \(line 6\)/);
    const skipped: string[] = [];
    const tail: string[] = [];
    forEachLineRange(bad, (t, s, e) => tail.push(t.slice(s, e)), { byteRange: { start: 14, end: Infinity }, skipInvalidUtf8: true, onWarning: (w) => skipped.push(w) });
    assert.deepEqual(tail, ['ok'], 'line 5 starts at byte 12, before the range; line 6 is skipped');
    assert.match(skipped[0]!, /byte offset 16 \(line 6\); line skipped/);
  } finally {
    cleanup();
  }
});
