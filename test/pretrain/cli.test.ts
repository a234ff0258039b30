// `electra pretrain` flags and exit codes (the runs themselves are in resume/learn tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers.js';

const run = runCli;

test('electra pretrain: help, required flags, bad hparams (exit 2, naming the key)', async () => {
  const help = await run(['pretrain', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /--output-dir DIR\/pretrain_tfrecords/);
  assert.match((await run(['help'])).out, /pretrain +Pre-train ELECTRA/);
  const missing = await run(['pretrain', '--data-dir', '/nowhere']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /--data-dir and --model-name are required/);
  assert.equal((await run(['pretrain', '--data-dir', '/d', '--model-name', 'm', '--bogus'])).code, 2);
  const bad = await run(['pretrain', '--data-dir', '/d', '--model-name', 'm', '--hparams', '{"learning_rat": 1e-4}']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /unknown hparam 'learning_rat' \(did you mean 'learning_rate'\?\)/);
  const noData = await run(['pretrain', '--data-dir', '/nowhere', '--model-name', 'm', '--hparams', '{"debug": true}']);
  assert.equal(noData.code, 2);
  assert.match(noData.err, /vocab file \/nowhere\/vocab\.txt not found/);
});
