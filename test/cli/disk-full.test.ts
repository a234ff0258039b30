// A full disk (issue 14, item 7), simulated by test/disk-full-preload: the write that does not fit
// fails with ENOSPC. Each command must stop with a clear error (exit 1), keep the previous
// complete state, and, rerun once space is free, finish with the same files as a run that never
// failed. The budget is half of what a full run writes, measured first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cliPath, makeTinyDataDir, tempDir, tinyHparams } from '../pretrain/fixtures.js';
import { listCheckpoints } from '../../src/io/checkpoint-folders.js';
import { readShardHeader } from '../../src/data/shards.js';
import { TempDir } from '../finetune/fixtures.js';
import { SIZE, writeGlue, writePretrained } from '../finetune-train/fixtures.js';

const preload = new URL('../disk-full-preload.js', import.meta.url).href;

interface Run { status: number | null; stderr: string; written: number }

/** Runs the CLI; with `budget`, writes beyond that many bytes fail with ENOSPC. */
function electra(args: string[], scratch: string, budget?: number): Run {
  const reportFile = join(scratch, `written-${Math.random().toString(36).slice(2)}`);
  const env = { ...process.env, ENOSPC_REPORT: reportFile, ...(budget !== undefined ? { ENOSPC_AFTER_BYTES: String(budget) } : {}) };
  const r = spawnSync(process.execPath, ['--import', preload, cliPath, ...args], { encoding: 'utf8', env });
  return { status: r.status, stderr: r.stderr, written: Number(readFileSync(reportFile, 'utf8')) };
}

/** Every file under dir (relative path -> bytes), hidden ones included. */
function tree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

/** `rename`: [from, to] pairs for JSON files that hold their own model's name (the reference run's vs this one's). */
function assertSameFiles(actual: Map<string, Buffer>, expected: Map<string, Buffer>, what: string, rename: Array<[string, string]> = []): void {
  assert.deepEqual([...actual.keys()], [...expected.keys()], `${what}: the same files`);
  for (const [name, bytes] of expected) {
    const want = rename.length > 0 && name.endsWith('.json')
      ? Buffer.from(rename.reduce((text, [from, to]) => text.replaceAll(from, to), bytes.toString('utf8'))) : bytes;
    assert.ok(actual.get(name)!.equals(want), `${what}: ${name} differs`);
  }
}

const diskFull = /cannot write: no space left on the disk \(ENOSPC\); complete files written before are kept: free some space and run the same command again/;

test('build-pretraining-dataset on a full disk: exit 1 naming the file, no damaged shard, the rerun gives the same dataset', () => {
  const t = tempDir('diskfull-build');
  try {
    const corpus = join(t.dir, 'corpus');
    mkdirSync(corpus);
    const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'and', 'dog', 'ran', 'home', '.'];
    for (const f of ['a', 'b', 'c', 'd']) {
      const lines: string[] = [];
      for (let i = 0; i < 300; i++) lines.push(i % 7 === 6 ? '' : Array.from({ length: 8 }, (_, j) => words[(i * 3 + j * 5 + f.charCodeAt(0)) % words.length]).join(' '));
      writeFileSync(join(corpus, `${f}.txt`), lines.join('\n') + '\n');
    }
    const vocab = join(t.dir, 'vocab.txt');
    writeFileSync(vocab, ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words].join('\n') + '\n');
    const args = (out: string): string[] => ['build-pretraining-dataset', '--corpus-dir', corpus, '--vocab-file', vocab, '--output-dir', out,
      '--max-seq-length', '16', '--num-processes', '2', '--num-out-files', '4', '--quiet'];

    const reference = electra(args(join(t.dir, 'ref')), t.dir);
    assert.equal(reference.status, 0, reference.stderr);
    const out = join(t.dir, 'out');
    const full = electra(args(out), t.dir, Math.floor(reference.written / 2));
    assert.equal(full.status, 1, full.stderr);
    assert.match(full.stderr, new RegExp(`${out}/\\S+: ${diskFull.source}`));
    // The build removes a folder it made; what it leaves is never taken for a finished build.
    const left = existsSync(out) ? readdirSync(out) : [];
    assert.ok(!left.includes('manifest.json'), 'an unfinished build has no manifest');
    for (const name of left.filter((n) => /^shard-.*\.bin$/.test(n))) readShardHeader(join(out, name));

    const rerun = electra(args(out), t.dir);
    assert.equal(rerun.status, 0, rerun.stderr);
    assertSameFiles(tree(out), tree(join(t.dir, 'ref')), 'rerun after a full disk');
  } finally {
    t.cleanup();
  }
});

test('pretrain on a full disk: exit 1, the last complete checkpoint kept, the rerun ends with the same weights', async () => {
  const d = await makeTinyDataDir('diskfull-pretrain');
  try {
    const hparams = JSON.stringify(tinyHparams(d.vocab.length, { num_train_steps: 12, save_checkpoints_steps: 4, keep_checkpoint_max: 0 }));
    const args = (name: string): string[] => ['pretrain', '--data-dir', d.dataDir, '--model-name', name, '--hparams', hparams, '--quiet'];
    const reference = electra(args('ref'), d.dataDir);
    assert.equal(reference.status, 0, reference.stderr);
    const modelDir = join(d.dataDir, 'models', 'm');
    // training_state.json records model_name and model_dir.
    const NAMES: Array<[string, string]> = [['/models/ref', '/models/m'], ['"model_name": "ref"', '"model_name": "m"']];
    const full = electra(args('m'), d.dataDir, Math.floor(reference.written / 2));
    assert.equal(full.status, 1, full.stderr);
    assert.match(full.stderr, new RegExp(`${modelDir}/checkpoint-\\d+: ${diskFull.source}`));
    const kept = listCheckpoints(modelDir).map((c) => c.step);
    assert.ok(kept.length >= 1 && kept.length < 3, `a checkpoint before the failure and not all of them: ${kept}`);
    const last = `checkpoint-${kept.at(-1)}`;
    assertSameFiles(tree(join(modelDir, last)), tree(join(d.dataDir, 'models', 'ref', last)), `${last}, written before the disk filled`, NAMES);

    const rerun = electra(args('m'), d.dataDir);
    assert.equal(rerun.status, 0, rerun.stderr);
    assert.deepEqual(listCheckpoints(modelDir).map((c) => c.step), [4, 8, 12]);
    for (const step of [4, 8, 12]) {
      assertSameFiles(tree(join(modelDir, `checkpoint-${step}`)), tree(join(d.dataDir, 'models', 'ref', `checkpoint-${step}`)), `checkpoint-${step} after the rerun`, NAMES);
    }
    assert.ok(!readdirSync(modelDir).some((n) => n.startsWith('.')), 'no staging folders remain');
  } finally {
    d.cleanup();
  }
});

test('finetune on a full disk: exit 1, then the rerun writes the same results and model folders', () => {
  const dir = new TempDir('diskfull-ft-');
  try {
    writeGlue(dir);
    writePretrained(dir, 'tiny');
    const hparams = JSON.stringify({ ...SIZE, task_names: ['rte'], num_trials: 2, num_train_epochs: 1, max_seq_length: 32, train_batch_size: 8, learning_rate: 1e-3 });
    const models = join(dir.path, 'models', 'tiny');
    const before = tree(models);
    const args = ['finetune', '--data-dir', dir.path, '--model-name', 'tiny', '--hparams', hparams];
    const reference = electra(args, dir.path);
    assert.equal(reference.status, 0, reference.stderr);
    const expected = tree(models);
    // Back to the pre-trained model alone, then the same run with half the space.
    for (const name of readdirSync(models)) if (!before.has(name) && ![...before.keys()].some((k) => k.startsWith(`${name}/`))) spawnSync('rm', ['-rf', join(models, name)]);
    assertSameFiles(tree(models), before, 'reset');
    const full = electra(args, dir.path, Math.floor(reference.written / 2));
    assert.equal(full.status, 1, full.stderr);
    assert.match(full.stderr, new RegExp(`${models}/\\S+: ${diskFull.source}`));
    const rerun = electra(args, dir.path);
    assert.equal(rerun.status, 0, rerun.stderr);
    assertSameFiles(tree(models), expected, 'rerun after a full disk');
  } finally {
    dir.remove();
  }
});
