// Output locations are checked before any work, and what is wrong is said in words (issue 14, item 2);
// a pre-training run that fails on bad data leaves nothing behind (item 5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers.js';
import { makeTinyDataDir, tempDir, tinyHparams } from '../pretrain/fixtures.js';

test('corpus, vocab and build-pretraining-dataset name an output path that a file blocks, before any work (exit 2)', async () => {
  const t = tempDir('outpaths');
  try {
    const afile = join(t.dir, 'afile');
    writeFileSync(afile, 'x\n');
    const corpus = join(t.dir, 'corpus');
    mkdirSync(corpus);
    writeFileSync(join(corpus, 'a.txt'), 'the cat sat on the mat .\nthe dog sat on the log .\n\nanother document here .\n');
    const vocab = join(t.dir, 'vocab.txt');
    writeFileSync(vocab, ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'the', 'cat', 'sat', 'on', 'mat', '.'].join('\n') + '\n');

    for (const out of [afile, join(afile, 'sub')]) {
      const c = await runCli(['corpus', '--name', 'brown', '--output-dir', out]);
      assert.equal(c.code, 2, c.err);
      assert.match(c.err, out === afile ? /--output-dir \S*afile is a file, not a folder/ : /--output-dir \S*afile\/sub cannot be created: \S*afile is a file, not a folder/);
      assert.doesNotMatch(c.err, /EEXIST|ENOTDIR/);

      const b = await runCli(['build-pretraining-dataset', '--corpus-dir', corpus, '--vocab-file', vocab, '--output-dir', out, '--quiet']);
      assert.equal(b.code, 2, b.err);
      assert.match(b.err, /--output-dir \S*afile(\/sub)? (is a file, not a folder|cannot be created: \S*afile is a file)/);
    }

    const v = await runCli(['vocab', '--corpus-dir', corpus, '--vocab-size', '30', '--output', join(afile, 'v.txt')]);
    assert.equal(v.code, 2, v.err);
    assert.match(v.err, /--output \S*afile\/v\.txt cannot be written: \S*afile is a file, not a folder/);
    // Checked before the corpus is even read: a missing corpus is not what is reported.
    const first = await runCli(['vocab', '--corpus-dir', join(t.dir, 'none'), '--vocab-size', '30', '--output', join(afile, 'v.txt')]);
    assert.equal(first.code, 2, first.err);
    assert.match(first.err, /--output \S*afile\/v\.txt cannot be written/);
    const dirAsFile = await runCli(['vocab', '--corpus-dir', corpus, '--vocab-size', '30', '--output', corpus]);
    assert.match(dirAsFile.err, /--output \S*corpus is a folder, not a file/);
  } finally {
    t.cleanup();
  }
});

test('pretrain and finetune: a file named models under --data-dir is reported as such (exit 2)', async () => {
  const t = tempDir('outpaths-models');
  try {
    writeFileSync(join(t.dir, 'models'), '');
    const f = await runCli(['finetune', '--data-dir', t.dir, '--model-name', 'm']);
    assert.equal(f.code, 2, f.err);
    assert.match(f.err, /the model folder \S*models\/m cannot be created: \S*models is a file, not a folder/);
  } finally {
    t.cleanup();
  }
  const d = await makeTinyDataDir('outpaths-pretrain');
  try {
    const hparams = JSON.stringify(tinyHparams(d.vocab.length, { num_train_steps: 2, do_eval: false }));
    writeFileSync(join(d.dataDir, 'models'), '');
    const p = await runCli(['pretrain', '--data-dir', d.dataDir, '--model-name', 'm', '--hparams', hparams, '--quiet']);
    assert.equal(p.code, 2, p.err);
    assert.match(p.err, /the model folder \S*models\/m cannot be created: \S*models is a file, not a folder/);
  } finally {
    d.cleanup();
  }
});

test('pretrain on damaged shards exits 2 and leaves no models/ folder, and no hparams.json in an existing one', async () => {
  const d = await makeTinyDataDir('outpaths-bad-data');
  try {
    const records = join(d.dataDir, 'pretrain_tfrecords');
    const shard = readdirSync(records).find((n) => n.endsWith('.bin'))!;
    writeFileSync(join(records, shard), 'not a shard at all, but long enough to have a header................................................................................');
    const hparams = JSON.stringify(tinyHparams(d.vocab.length, { num_train_steps: 2 }));
    const args = ['pretrain', '--data-dir', d.dataDir, '--model-name', 'm', '--hparams', hparams, '--quiet'];
    const first = await runCli(args);
    assert.equal(first.code, 2, first.err);
    assert.match(first.err, new RegExp(`${shard}: not an electra-ts pre-training shard`));
    assert.equal(existsSync(join(d.dataDir, 'models')), false, 'a failed first run must leave no models/ folder');

    mkdirSync(join(d.dataDir, 'models', 'm'), { recursive: true });
    const again = await runCli(args);
    assert.equal(again.code, 2, again.err);
    assert.deepEqual(readdirSync(join(d.dataDir, 'models', 'm')), [], 'nothing written into the model folder');
    // Evaluation only: the shards are checked before results or hparams are written.
    const evalOnly = await runCli(['pretrain', '--data-dir', d.dataDir, '--model-name', 'm', '--quiet', '--hparams',
      JSON.stringify(tinyHparams(d.vocab.length, { do_train: false, do_eval: true }))]);
    assert.equal(evalOnly.code, 2, evalOnly.err);
    assert.deepEqual(readdirSync(join(d.dataDir, 'models', 'm')), []);
  } finally {
    d.cleanup();
  }
});
