// Fine-tuning checkpoints and resuming: a run interrupted anywhere (an abort between updates, or
// SIGKILL in the middle of writing a checkpoint) and rerun with the same command ends with the
// same results and the same final weights as an uninterrupted run; trials already done are not
// redone; a checkpoint or record of other settings is not used.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { listCheckpoints } from '../../src/io/checkpoint-folders.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { resolveHparams } from '../../src/finetune/hparams.js';
import { readFinetuningState } from '../../src/finetune/model/training-checkpoint.js';
import { readProgress } from '../../src/finetune/progress.js';
import { runFinetuning, type FinetuneOptions } from '../../src/finetune/runner.js';
import { TempDir } from '../finetune/fixtures.js';
import { quiet, SIZE, writeGlue } from './fixtures.js';

const dir = new TempDir('ft-resume-');
writeGlue(dir);
after(() => dir.remove());

// rte: 12 training pairs in batches of 2 -> 6 updates an epoch, 12 in all; checkpoints at 4 and 8.
const HPARAMS = {
  ...SIZE, task_names: ['rte'], random_init: true, num_trials: 2, num_train_epochs: 2, train_batch_size: 2, max_seq_length: 32,
  learning_rate: 1e-3, save_checkpoints_steps: 4,
};

function run(modelName: string, extra: Partial<FinetuneOptions> = {}, lines: string[] = [], hparams: Record<string, unknown> = HPARAMS) {
  const { hparams: hp } = resolveHparams({ ...hparams, data_dir: dir.path, model_name: modelName });
  return runFinetuning({ hparams: hp, log: (l) => lines.push(l), progressStream: quiet, ...extra });
}

const modelsDir = (name: string): string => join(dir.path, 'models', name, 'finetuning_models');
const trialDir = (name: string, trial: number): string => join(modelsDir(name), `rte_model_${trial}`);
const resultsJson = (name: string): string => readFileSync(join(dir.path, 'models', name, 'results', 'rte_results.json'), 'utf8');

function assertSameWeights(a: string, b: string, what: string): void {
  const x = readSafetensors(join(a, 'model.safetensors')).tensors;
  const y = readSafetensors(join(b, 'model.safetensors')).tensors;
  assert.deepEqual([...x.keys()], [...y.keys()], what);
  for (const [name, t] of x) assert.deepEqual(y.get(name)!.data, t.data, `${what}: ${name}`);
}

/** Same results and same final weights of both trials as the uninterrupted run. */
function assertSameAsStraight(name: string): void {
  assert.equal(resultsJson(name), resultsJson('straight'));
  for (const trial of [1, 2]) assertSameWeights(trialDir(name, trial), trialDir('straight', trial), `${name} trial ${trial}`);
}

test('an uninterrupted run records its trials and leaves no checkpoints; rerunning it redoes nothing', () => {
  const first = run('straight');
  assert.equal(first.interrupted, false);
  assert.equal(first.trials.length, 2);
  assert.deepEqual(first.skippedTrials, []);
  const progress = readProgress(join(modelsDir('straight'), 'rte_progress.json'))!;
  assert.deepEqual(Object.keys(progress.trials), ['1', '2']);
  assert.ok(Object.values(progress.trials).every((t) => t.trained && t.evaluation !== null));
  for (const trial of [1, 2]) {
    assert.deepEqual(listCheckpoints(trialDir('straight', trial)), [], 'the saved model supersedes the checkpoints');
    assert.ok(!readdirSync(trialDir('straight', trial)).some((n) => n.startsWith('.') || n.startsWith('checkpoint-')));
  }
  const weights = join(trialDir('straight', 1), 'model.safetensors');
  const written = statSync(weights).mtimeMs;
  const results = resultsJson('straight');

  const lines: string[] = [];
  const again = run('straight', {}, lines);
  assert.deepEqual(again.skippedTrials, [1, 2]);
  assert.ok(lines.some((l) => /trial 1\/2 was done by an earlier run of this command/.test(l)), lines.join('\n'));
  assert.ok(!lines.some((l) => /training for/.test(l)), 'nothing is trained again');
  assert.deepEqual(again.trials, first.trials);
  assert.equal(resultsJson('straight'), results);
  assert.equal(statSync(weights).mtimeMs, written, 'the model is not rewritten');
});

test('aborted between updates: a checkpoint is saved there and the rerun continues exactly', () => {
  const controller = new AbortController();
  const first = run('aborted', { signal: controller.signal, onStep: (trial, step) => { if (trial === 1 && step === 5) controller.abort(); } });
  assert.equal(first.interrupted, true);
  assert.equal(first.trials.length, 0);
  // Only the newest checkpoint is kept: checkpoint-4 made way for the one at the abort.
  assert.deepEqual(listCheckpoints(trialDir('aborted', 1)).map((c) => c.step), [5]);
  const state = readFinetuningState(join(trialDir('aborted', 1), 'checkpoint-5'));
  assert.deepEqual([state.trial, state.step, state.trainSteps, state.epoch, state.batchInEpoch, state.epochExamples], [1, 5, 12, 1, 5, 10]);
  const slots = readSafetensors(join(trialDir('aborted', 1), 'checkpoint-5', 'optimizer.safetensors')).tensors;
  assert.ok([...slots.values()].some((t) => t.data.some((x) => x !== 0)), 'the moments are saved, not zeros');

  const lines: string[] = [];
  const second = run('aborted', {}, lines);
  assert.equal(second.interrupted, false);
  assert.deepEqual([...second.resumedFrom], [[1, 5]]);
  assert.ok(lines.some((l) => /resuming trial 1 from .*checkpoint-5 \(step 5 of 12\)/.test(l)), lines.join('\n'));
  assertSameAsStraight('aborted');
});

test('SIGKILL while writing a checkpoint of trial 2: the rerun skips trial 1 and resumes trial 2 from its last complete checkpoint', () => {
  const args = [join(process.cwd(), 'bin', 'electra.js'), 'finetune', '--data-dir', dir.path, '--model-name', 'killed', '--hparams', JSON.stringify(HPARAMS)];
  const killed = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, ELECTRA_TEST_KILL_IN_CHECKPOINT: '2:8' } });
  assert.equal(killed.signal, 'SIGKILL', `the child should die by SIGKILL: ${killed.stderr}`);
  assert.deepEqual(listCheckpoints(trialDir('killed', 2)).map((c) => c.step), [4], 'checkpoint-8 was never completed');
  assert.ok(readdirSync(trialDir('killed', 2)).some((n) => n.startsWith('.checkpoint-8.partial-')), 'its staging folder is left behind');
  assert.deepEqual(Object.keys(readProgress(join(modelsDir('killed'), 'rte_progress.json'))!.trials), ['1']);

  const rerun = spawnSync(process.execPath, args, { encoding: 'utf8' });
  assert.equal(rerun.status, 0, rerun.stderr);
  assert.match(rerun.stderr, /trial 1\/2 was done by an earlier run of this command/);
  assert.match(rerun.stderr, /removed 1 unfinished checkpoint folder/);
  assert.match(rerun.stderr, /resuming trial 2 from .*checkpoint-4 \(step 4 of 12\)/);
  assert.doesNotMatch(rerun.stderr, /trial 1\/2 epoch/, 'trial 1 is not trained again');
  assert.ok(!readdirSync(trialDir('killed', 2)).some((n) => n.startsWith('.') || n.startsWith('checkpoint-')));
  assertSameAsStraight('killed');
});

test('a checkpoint or record of other settings is not resumed: the run starts over', () => {
  const changed = { ...HPARAMS, learning_rate: 2e-3 };
  const controller = new AbortController();
  run('changed', { signal: controller.signal, onStep: (trial, step) => { if (trial === 1 && step === 6) controller.abort(); } });
  assert.deepEqual(listCheckpoints(trialDir('changed', 1)).map((c) => c.step), [6]);
  const lines: string[] = [];
  const other = run('changed', {}, lines, changed);
  assert.ok(lines.some((l) => /checkpoint-6 is from a run with other settings, data or starting weights: not resuming from it/.test(l)), lines.join('\n'));
  assert.deepEqual([...other.resumedFrom], []);
  assert.deepEqual(other.skippedTrials, []);
  // Back to the first settings: the record is of the changed run, so everything is trained again.
  const lines2: string[] = [];
  const back = run('changed', {}, lines2);
  assert.ok(lines2.some((l) => /records a run with other settings, data or starting weights: starting over/.test(l)), lines2.join('\n'));
  assert.deepEqual(back.skippedTrials, []);
  assert.equal(resultsJson('changed'), resultsJson('straight'));
  assert.ok(existsSync(join(trialDir('changed', 2), 'model.safetensors')));
});
