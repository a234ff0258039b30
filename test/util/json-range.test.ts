// A number too large for a double (1e400) is reported as written, with its place, not as the
// null that JSON.parse's Infinity turns into (issue 14, item 4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readHparamsArgument } from '../../src/util/hparams-arg.js';
import { findOutOfRangeNumber, parseJsonText } from '../../src/util/json.js';
import { UsageError } from '../../src/errors.js';
import { runCli } from '../helpers.js';

test('an overflowing number literal is named with its line and column', () => {
  assert.throws(() => readHparamsArgument('{"learning_rate": 1e400}'),
    (e: Error) => e instanceof UsageError && /--hparams: line 1 column 19: the number 1e400 is too large for a 64-bit float/.test(e.message));
  assert.throws(() => parseJsonText('{\n  "a": "1e999 in a string",\n  "b": [1, -2E+999]\n}', 'f.json', (m) => new UsageError(m)),
    /f\.json: line 3 column 12: the number -2E\+999 is too large/);
  // Within range, in strings, after escapes, and underflow (1e-400 is 0): all accepted.
  assert.equal(findOutOfRangeNumber('{"a": "x\\"1e400", "b": 1e308, "c": 1e-400, "d": -0.5e2}'), null);
  assert.deepEqual(findOutOfRangeNumber(`[${'9'.repeat(309)}]`), { offset: 1, literal: '9'.repeat(309) });
});

test('pretrain --hparams with 1e400 reports the literal, not "null" (exit 2)', async () => {
  const r = await runCli(['pretrain', '--data-dir', '/nowhere', '--model-name', 'm', '--hparams', '{"learning_rate": 1e400}']);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /the number 1e400 is too large/);
  assert.doesNotMatch(r.err, /null/);
});
