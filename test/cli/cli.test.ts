// The command line as a user meets it: help for every command, "did you mean" for misspelt
// commands and flags, and bad input refused with exit code 2, a message naming the file, and
// no output left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { resolveHparams } from '../../src/finetune/hparams.js';
import { runFinetuning } from '../../src/finetune/runner.js';
import { runCli } from '../helpers.js';
import { commands } from '../../src/cli/commands.js';
import { bertUncasedVocab } from '../../src/tokenizer/index.js';
import { TempDir } from '../finetune/fixtures.js';
import { SIZE, writeGlue, writePretrained } from '../finetune-train/fixtures.js';
import { cliPath } from '../pretrain/fixtures.js';

const run = runCli;

test('every command answers --help with its usage, exit 0', async () => {
  for (const c of commands) {
    const r = await run([c.name, '--help']);
    assert.equal(r.code, 0, c.name);
    assert.match(r.out, /^Usage: electra /, c.name);
  }
  const none = await run([]);
  assert.equal(none.code, 0);
  assert.match(none.out, /Commands:/);
});

test('a misspelt command or flag gets a "did you mean"', async () => {
  const cmd = await run(['pretrian']);
  assert.equal(cmd.code, 2);
  assert.match(cmd.err, /^electra: unknown command 'pretrian' \(did you mean 'pretrain'\?\)/);
  assert.doesNotMatch((await run(['frobnicate'])).err, /did you mean/);
  const cases: [string[], RegExp][] = [
    [['pretrain', '--data_dir', 'd', '--model-name', 'm'], /^electra pretrain: unknown option '--data_dir' \(did you mean --data-dir\?\)/],
    [['finetune', '--data-dir', 'd', '--model_name', 'm'], /^electra finetune: unknown option '--model_name' \(did you mean --model-name\?\)/],
    [['build-pretraining-dataset', '--corpus_dir=x'], /^electra build-pretraining-dataset: unknown option '--corpus_dir' \(did you mean --corpus-dir\?\)/],
    [['convert', '--tf_checkpoint', 'x'], /^electra convert: unknown option '--tf_checkpoint' \(did you mean --tf-checkpoint\?\)/],
    [['vocab', '--vocab_size', '9'], /^electra vocab: unknown option '--vocab_size' \(did you mean --vocab-size\?\)/],
    [['tokenize', '--vocab_file', 'v'], /^electra tokenize: unknown option '--vocab_file' \(did you mean --vocab-file\?\)/],
    [['corpus', '--output_dir', 'x'], /^electra corpus: unknown option '--output_dir' \(did you mean --output-dir\?\)/],
  ];
  for (const [args, expected] of cases) {
    const r = await run(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, expected);
  }
  const finetune = await run(['finetune', '--data-dir', 'd', '--model_name', 'm']);
  assert.equal(finetune.code, 2);
  assert.doesNotMatch(finetune.err, /finetune: finetune:/, 'the command is named once');
});

test('every command: a flag problem prints the problem and the usage (exit 2); --help wins over it (exit 0)', async () => {
  for (const c of commands) {
    const stray = await run([c.name, 'stray']);
    assert.equal(stray.code, 2, c.name);
    assert.ok(stray.err.startsWith(`electra ${c.name}: unexpected argument 'stray'\n\nUsage: electra ${c.name} `), `${c.name}: ${stray.err.slice(0, 200)}`);
    const bogus = await run([c.name, '--bogus', 'x', '--help']);
    assert.equal(bogus.code, 0, c.name);
    assert.match(bogus.out, new RegExp(`^Usage: electra ${c.name} `));
    assert.equal(bogus.err, '', c.name);
  }
});

test('missing required flags are named, with the usage; a bad value is named without it (exit 2 both)', async () => {
  const cases: [string[], string][] = [
    [['tokenize'], '--vocab-file is required'],
    [['vocab', '--corpus-dir', 'c', '--output', 'o'], '--vocab-size is required'],
    [['vocab', '--vocab-size', '9', '--output', 'o'], '--corpus-dir is required'],
    // The same pair for both training commands (finetune named only the first missing one before).
    [['finetune', '--data-dir', 'd'], '--data-dir and --model-name are required'],
    [['pretrain', '--model-name', 'm'], '--data-dir and --model-name are required'],
    [['convert', '--tf-checkpoint', 'x'], '--tf-checkpoint and --output-dir are required'],
    [['corpus', '--name', 'brown'], '--name and --output-dir are required'],
    [['build-pretraining-dataset', '--vocab-file', 'v'], '--corpus-dir, --vocab-file and --output-dir are required'],
    [['finetune', '--data-dir', '--model-name', 'm'], '--data-dir needs a value'],
  ];
  for (const [args, message] of cases) {
    const r = await run(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.ok(r.err.startsWith(`electra ${args[0]}: ${message}\n\nUsage: electra ${args[0]} `), `${args.join(' ')}: ${r.err.slice(0, 200)}`);
  }
  const values: [string[], string][] = [
    [['vocab', '--corpus-dir', 'c', '--output', 'o', '--vocab-size', '4'], "--vocab-size must be an integer >= 5, got '4'"],
    [['vocab', '--corpus-dir', 'c', '--output', 'o', '--vocab-size', '9', '--min-frequency', 'two'], "--min-frequency must be an integer >= 1, got 'two'"],
    [['convert', '--tf-checkpoint', 'x', '--output-dir', 'o', '--num-attention-heads', '0'], "--num-attention-heads must be an integer >= 1, got '0'"],
  ];
  for (const [args, message] of values) {
    const r = await run(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.err, `electra ${args[0]}: ${message}\n`);
  }
});

test('electra tokenize: --no-X negations and --flag=value still work', () => {
  const dir = new TempDir('cli-neg-');
  try {
    const vocab = dir.write('vocab.txt', bertUncasedVocab().join('\n') + '\n');
    // The last of --X / --no-X wins: without a tab the line is refused under --pair, and the
    // uncased vocabulary has no 'Paris' when not lower-casing.
    const r = spawnSync(process.execPath, [cliPath, 'tokenize', `--vocab-file=${vocab}`, '--pair', '--no-lower-case', '--no-pair', '--lower-case'], { input: 'Paris, no tab\n' });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.deepEqual((JSON.parse(r.stdout.toString()) as { tokens: string[] }).tokens, ['[CLS]', 'paris', ',', 'no', 'tab', '[SEP]']);
  } finally {
    dir.remove();
  }
});

test('--hparams errors name the file, line and column, exit 2', async () => {
  const dir = new TempDir('cli-hparams-');
  try {
    const file = dir.write('hp.json', '{\n  "debug": true,\n  "num_train_steps": 5,\n}\n');
    for (const command of ['pretrain', 'finetune']) {
      const r = await run([command, '--data-dir', dir.path, '--model-name', 'm', '--hparams', file]);
      assert.equal(r.code, 2, command);
      assert.match(r.err, new RegExp(`^electra ${command}: .*hp\\.json: invalid JSON at line 4 column 1: expected a "quoted" property name, found "}" \\(a trailing comma\\?\\)`));
      const missing = await run([command, '--data-dir', dir.path, '--model-name', 'm', '--hparams', 'nothere']);
      assert.equal(missing.code, 2);
      assert.match(missing.err, /--hparams: 'nothere' is neither a JSON object nor an existing file/);
    }
    for (const command of ['pretrain', 'finetune']) {
      const escape = await run([command, '--data-dir', dir.path, '--model-name', '../../elsewhere', '--hparams', '{}']);
      assert.equal(escape.code, 2, command);
      assert.match(escape.err, /--model-name must be a plain folder name/);
    }
    assert.equal(existsSync(join(dir.path, 'models')), false);
  } finally {
    dir.remove();
  }
});

test('electra finetune: a vocab.txt of another size than the model\'s vocab_size is refused before any output', async () => {
  const dir = new TempDir('cli-vocab-');
  try {
    writeGlue(dir);
    const pretrained = writePretrained(dir, 'tiny');
    writeFileSync(join(pretrained, 'vocab.txt'), bertUncasedVocab().slice(0, 1000).join('\n') + '\n');
    const hparams = { ...SIZE, task_names: ['rte'], max_seq_length: 48, num_train_epochs: 1 };
    const r = await run(['finetune', '--data-dir', dir.path, '--model-name', 'tiny', '--hparams', JSON.stringify(hparams)]);
    assert.equal(r.code, 2);
    assert.match(r.err, /discriminator\/vocab\.txt has 1000 tokens but the model .* has vocab_size 30522: use the vocab\.txt the model was pre-trained with/);
    assert.deepEqual(readdirSync(join(dir.path, 'models', 'tiny')), ['checkpoint-3'], 'no results, model folders or predictions');
  } finally {
    dir.remove();
  }
});

test('electra tokenize: input that is not UTF-8 is refused naming the line', () => {
  const dir = new TempDir('cli-tok-');
  try {
    const vocab = dir.write('vocab.txt', bertUncasedVocab().join('\n') + '\n');
    const ok = spawnSync(process.execPath, [cliPath, 'tokenize', '--vocab-file', vocab], { input: Buffer.from('caf\xc3\xa9\r\nok\n', 'latin1') });
    assert.equal(ok.status, 0, ok.stderr.toString());
    assert.deepEqual(ok.stdout.toString().trimEnd().split('\n').map((l) => (JSON.parse(l) as { tokens: string[] }).tokens), [['[CLS]', 'cafe', '[SEP]'], ['[CLS]', 'ok', '[SEP]']]);
    const bad = spawnSync(process.execPath, [cliPath, 'tokenize', '--vocab-file', vocab], { input: Buffer.from('fine\ncaf\xe9\n', 'latin1') });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr.toString(), /^electra tokenize: stdin line 2: invalid UTF-8 at byte 3 of the line/);
  } finally {
    dir.remove();
  }
});

test('electra finetune: Ctrl-C during training stops after the update, saves a checkpoint and exits 130', async () => {
  const dir = new TempDir('cli-sigint-');
  try {
    writeGlue(dir);
    writePretrained(dir, 'tiny');
    // Far more steps than can finish before the signal arrives.
    const hparams = { ...SIZE, task_names: ['rte'], max_seq_length: 48, num_train_epochs: 100000, train_batch_size: 4 };
    const child = spawn(process.execPath, [cliPath, 'finetune', '--data-dir', dir.path, '--model-name', 'tiny', '--hparams', JSON.stringify(hparams)]);
    let stderr = '';
    let signalled = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      // Once the progress shows a finished epoch, training is under way.
      if (!signalled && /epoch 2\/100000/.test(stderr)) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 130, stderr.slice(-2000));
    assert.match(stderr, /stopping after this update and saving a checkpoint/);
    const stopped = /stopped at step (\d+) of trial 1; the checkpoint is saved/.exec(stderr);
    assert.ok(stopped, stderr.slice(-2000));
    const modelDir = join(dir.path, 'models', 'tiny', 'finetuning_models', 'rte_model_1');
    assert.deepEqual(readdirSync(modelDir), [`checkpoint-${stopped[1]}`]);
    assert.equal(existsSync(join(dir.path, 'models', 'tiny', 'results')), false, 'no results from an interrupted run');
  } finally {
    dir.remove();
  }
});

test('fine-tuning shows progress for evaluation as well as training', () => {
  const dir = new TempDir('cli-evalbar-');
  try {
    writeGlue(dir);
    writePretrained(dir, 'tiny');
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    const { hparams } = resolveHparams({ ...SIZE, data_dir: dir.path, model_name: 'tiny', task_names: ['rte'], max_seq_length: 48, num_train_epochs: 1 });
    runFinetuning({ hparams, log: () => {}, progressStream: stream });
    const text = chunks.join('');
    assert.match(text, /rte trial 1\/1 epoch 1\/1 \[#+\] 100\.0% 1\/1/);
    assert.match(text, /evaluating rte \(dev\) \[#+\] 100\.0% 6\/6/);
  } finally {
    dir.remove();
  }
});
