// One exit status rule for every command (README, "Exit status"): 2 bad input, 1 runtime failure,
// 130 interrupted. Each command is tried with bad input of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers.js';
import { cliPath, tempDir } from '../pretrain/fixtures.js';
import { exitStatusFor } from '../../src/cli/exit-status.js';
import { FormatError, UsageError } from '../../src/errors.js';
import { ShardFormatError } from '../../src/data/shards.js';
import { CorpusFileError } from '../../src/data/text-lines.js';
import { BuildInterruptedError } from '../../src/data/build-job.js';
import { DemoInterrupted } from '../../src/demo/stages.js';
import { NonFiniteLossError } from '../../src/pretrain/run.js';

test('the rule: bad input 2, runtime failure 1, interrupted 130', () => {
  assert.equal(exitStatusFor(new UsageError('x')), 2);
  assert.equal(exitStatusFor(new FormatError('f', 'x')), 2);
  assert.equal(exitStatusFor(new ShardFormatError('f', 'x')), 2);
  assert.equal(exitStatusFor(new CorpusFileError('f', 'x')), 2);
  assert.equal(exitStatusFor(new BuildInterruptedError()), 130);
  assert.equal(exitStatusFor(new DemoInterrupted('s', 'd')), 130);
  assert.equal(exitStatusFor(new NonFiniteLossError(3, null, 'the loss is NaN')), 1);
  assert.equal(exitStatusFor(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })), 1);
});

test('tokenize: a missing vocab file and a line without a tab under --pair exit 2', () => {
  const t = tempDir('exit-tokenize');
  try {
    const vocab = join(t.dir, 'vocab.txt');
    writeFileSync(vocab, ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'hello'].join('\n') + '\n');
    const tokenize = (args: string[], input: string): ReturnType<typeof spawnSync> =>
      spawnSync(process.execPath, [cliPath, 'tokenize', ...args], { input, encoding: 'utf8' });
    const missing = tokenize(['--vocab-file', join(t.dir, 'nope.txt')], 'hello\n');
    assert.equal(missing.status, 2, String(missing.stderr));
    assert.match(String(missing.stderr), /vocab file not found: \S*nope\.txt/);
    const noTab = tokenize(['--vocab-file', vocab, '--pair'], 'hello\n');
    assert.equal(noTab.status, 2, String(noTab.stderr));
    assert.match(String(noTab.stderr), /stdin line 1: expected "A<TAB>B" with --pair/);
    const ok = tokenize(['--vocab-file', vocab], 'hello\n');
    assert.equal(ok.status, 0, String(ok.stderr));
  } finally {
    t.cleanup();
  }
});

test('build-pretraining-dataset, vocab, corpus, demo, convert: bad input exits 2', async () => {
  const t = tempDir('exit-commands');
  try {
    const corpus = join(t.dir, 'corpus');
    mkdirSync(corpus);
    writeFileSync(join(corpus, 'a.txt'), 'the cat sat .\n');
    const vocab = join(t.dir, 'vocab.txt');
    writeFileSync(vocab, ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'sat', '.'].join('\n') + '\n');
    const out = join(t.dir, 'out');
    const build = (extra: Record<string, string>): Promise<{ code: number; err: string }> => runCli(['build-pretraining-dataset', '--quiet',
      ...Object.entries({ 'corpus-dir': corpus, 'vocab-file': vocab, 'output-dir': out, ...extra }).flatMap(([k, v]) => [`--${k}`, v])]);

    const noCorpus = await build({ 'corpus-dir': join(t.dir, 'none') });
    assert.equal(noCorpus.code, 2, noCorpus.err);
    assert.match(noCorpus.err, /corpus directory \S*none does not exist/);
    const noVocab = await build({ 'vocab-file': join(t.dir, 'none.txt') });
    assert.equal(noVocab.code, 2, noVocab.err);
    const notAVocab = await build({ 'vocab-file': join(corpus, 'a.txt') });
    assert.equal(notAVocab.code, 2, notAVocab.err);
    assert.match(notAVocab.err, /a\.txt: missing special token\(s\) \[PAD\]/);
    const badLength = await build({ 'max-seq-length': '4' });
    assert.equal(badLength.code, 2, badLength.err);
    writeFileSync(join(corpus, 'b.txt'), Buffer.from([0x61, 0xff, 0x0a]));
    const badText = await build({});
    assert.equal(badText.code, 2, badText.err);
    assert.match(badText.err, /b\.txt: invalid UTF-8/);

    const v = await runCli(['vocab', '--corpus-dir', join(t.dir, 'none'), '--vocab-size', '30', '--output', join(t.dir, 'v.txt')]);
    assert.equal(v.code, 2, v.err);
    assert.match(v.err, /cannot read corpus directory \S*none/);

    assert.equal((await runCli(['corpus', '--name', 'nope', '--output-dir', out])).code, 2);
    assert.equal((await runCli(['demo', '--minutes', '0'])).code, 2);
    const convert = await runCli(['convert', '--tf-checkpoint', join(t.dir, 'none'), '--output-dir', out]);
    assert.equal(convert.code, 2, convert.err);
    assert.match(convert.err, /no TensorFlow checkpoint at \S*none/);
    const convertInto = await runCli(['convert', '--tf-checkpoint', join(t.dir, 'none'), '--output-dir', join(vocab, 'x')]);
    assert.match(convertInto.err, /--output-dir \S*vocab\.txt\/x cannot be created: \S*vocab\.txt is a file, not a folder/);
    assert.equal((await runCli(['no-such-command'])).code, 2);
  } finally {
    t.cleanup();
  }
});
