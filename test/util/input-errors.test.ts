// The shared input checks: JSON syntax errors located by line and column, strict UTF-8, the
// `--hparams` reader, and "did you mean" hints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findJsonError, lineColumn, parseJsonText } from '../../src/util/json.js';
import { decodeUtf8Strict, InvalidUtf8Error } from '../../src/util/text.js';
import { readHparamsArgument } from '../../src/util/hparams-arg.js';
import { closestName, editDistance } from '../../src/util/suggest.js';

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

test('findJsonError agrees with JSON.parse on valid and broken texts, and points at the fault', () => {
  const valid = [
    '{}', '[]', '0', '-1.5e+3', '"a\\u00e9\\n"', ' {"a": [1, {"b": null}], "c": true, "d": false} ', '[[], {}, ""]',
  ];
  for (const t of valid) assert.equal(findJsonError(t), null, t);
  // Every prefix and every one-character deletion of a document: the scanner says "invalid"
  // exactly when JSON.parse fails (V8 is the oracle).
  const doc = '{\n  "task_names": ["rte", "sts"],\n  "learning_rate": 1e-4,\n  "debug": false,\n  "x": {"y": [1.5, -2, "q\\"z"]}\n}\n';
  const variants = [
    ...Array.from({ length: doc.length }, (_, i) => doc.slice(0, i)),
    ...Array.from({ length: doc.length }, (_, i) => doc.slice(0, i) + doc.slice(i + 1)),
    ...Array.from({ length: doc.length }, (_, i) => doc.slice(0, i) + ',' + doc.slice(i)),
  ];
  for (const t of variants) assert.equal(findJsonError(t) === null, parses(t), JSON.stringify(t));

  const trailing = '{\n  "debug": true,\n  "num_train_steps": 5,\n}\n';
  const e = findJsonError(trailing)!;
  assert.deepEqual(lineColumn(trailing, e.offset), { line: 4, column: 1 });
  assert.match(e.reason, /trailing comma/);
  assert.throws(() => parseJsonText(trailing, 'hp.json', (m) => new Error(m)), /^Error: hp\.json: invalid JSON at line 4 column 1: /);
  assert.throws(() => parseJsonText('{"a": tru}', 'x', (m) => new Error(m)), /line 1 column 7: unexpected "tru"/);
  assert.throws(() => parseJsonText('{"a": [1, 2', 'x', (m) => new Error(m)), /line 1 column 12: the text ends early/);
  assert.throws(() => parseJsonText('', 'x', (m) => new Error(m)), /line 1 column 1: the text is empty/);
  assert.deepEqual(parseJsonText('\ufeff{"a": 1}', 'x', (m) => new Error(m)), { a: 1 });
});

test('decodeUtf8Strict: valid text decodes as TextDecoder does; the first bad byte is named with its line', () => {
  const text = 'plain\ncafé ☕ 𝄞\n';
  assert.equal(decodeUtf8Strict(new TextEncoder().encode(text), 'f'), text);
  assert.equal(decodeUtf8Strict(Uint8Array.from([0xef, 0xbb, 0xbf, 0x61]), 'f'), 'a', 'byte-order mark dropped');
  const cases: [number[], number, number][] = [
    [[0x61, 0x0a, 0x62, 0xe9, 0x0a], 2, 3], // Latin-1 é
    [[0xc0, 0x80], 1, 0], // overlong NUL
    [[0x0a, 0x0a, 0xed, 0xa0, 0x80], 3, 2], // UTF-16 surrogate
    [[0x61, 0xe2, 0x82], 1, 1], // cut off at the end
    [[0xf4, 0x90, 0x80, 0x80], 1, 0], // beyond U+10FFFF
  ];
  for (const [bytes, line, offset] of cases) {
    const b = Uint8Array.from(bytes);
    assert.throws(() => new TextDecoder('utf-8', { fatal: true }).decode(b), TypeError, 'the oracle rejects it too');
    assert.throws(() => decodeUtf8Strict(b, 'data.tsv'), (err: unknown) => {
      assert.ok(err instanceof InvalidUtf8Error);
      assert.equal(err.line, line);
      assert.equal(err.byteOffset, offset);
      assert.match(err.message, new RegExp(`^data\\.tsv:${line}: invalid UTF-8 at byte offset ${offset}`));
      // Everything before the named byte is valid.
      new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(0, offset));
      return true;
    });
  }
});

test('readHparamsArgument: inline JSON, files, and errors that name the file, line and column', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hparams-arg-'));
  try {
    assert.deepEqual(readHparamsArgument(' {"seed": 3} '), { values: { seed: 3 }, source: '--hparams' });
    const good = join(dir, 'good.json');
    writeFileSync(good, '{"debug": true}\n');
    assert.deepEqual(readHparamsArgument(good), { values: { debug: true }, source: good });
    const noSuffix = join(dir, 'hparams');
    writeFileSync(noSuffix, '{"debug": false}');
    assert.deepEqual(readHparamsArgument(noSuffix).values, { debug: false }, 'any existing file, as well as *.json');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{\n  "debug": true,\n  "num_train_steps": 5,\n}\n');
    assert.throws(() => readHparamsArgument(bad), new RegExp(`^UsageError: ${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: invalid JSON at line 4 column 1: `));
    assert.throws(() => readHparamsArgument('{"debug": true,'), /^UsageError: --hparams: invalid JSON at line 1 column 16/);
    assert.throws(() => readHparamsArgument(join(dir, 'missing.json')), /--hparams: file not found: .*missing\.json/);
    assert.throws(() => readHparamsArgument('missing'), /--hparams: 'missing' is neither a JSON object nor an existing file/);
    assert.throws(() => readHparamsArgument('[1]'), /--hparams: expected a JSON object of hparams, got a list/);
    assert.throws(() => readHparamsArgument('"x"'), /--hparams: expected a JSON object of hparams, got "x" \(a string\)/);
    mkdirSync(join(dir, 'sub.json'));
    assert.throws(() => readHparamsArgument(join(dir, 'sub.json')), /is a directory, expected a JSON file/);
    const latin1 = join(dir, 'latin1.json');
    writeFileSync(latin1, Buffer.from('{\n"model_name": "caf\xe9"}', 'latin1'));
    assert.throws(() => readHparamsArgument(latin1), /latin1\.json:2: invalid UTF-8 at byte offset 20/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('closestName: hints for typos, "_" for "-", nothing for unrelated names', () => {
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(closestName('data_dir', ['data-dir', 'model-name', 'hparams']), 'data-dir');
  assert.equal(closestName('modle-name', ['data-dir', 'model-name', 'hparams']), 'model-name');
  assert.equal(closestName('pretrian', ['pretrain', 'finetune']), 'pretrain');
  assert.equal(closestName('xyz', ['pretrain', 'finetune']), null);
});
