// Per-task hparams in multi-task fine-tuning (task_hparams): checked before anything runs (unknown
// tasks and keys with a did-you-mean), single-task batches at each task's batch size and length on
// a seeded plan that mixes the tasks in proportion, updates that leave the other tasks' heads (and
// their moments) alone, and a run stopped anywhere that resumes exactly.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { jsKernels } from '../../src/kernels/index.js';
import { ParameterSet } from '../../src/nn/params.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { listCheckpoints } from '../../src/io/checkpoint-folders.js';
import { resolveHparams, taskHparams } from '../../src/finetune/hparams.js';
import { readFinetuningState } from '../../src/finetune/model/training-checkpoint.js';
import { batchPlan, runFinetuning, type FinetuneOptions } from '../../src/finetune/runner.js';
import { AdamW, ELECTRA_ADAMW } from '../../src/optim/adamw.js';
import { randomArray } from '../helpers.js';
import { TempDir } from '../finetune/fixtures.js';
import { quiet, SIZE, writeGlue } from './fixtures.js';

test('task_hparams: the tasks own keys over the global ones; unknown tasks and keys are errors with a did-you-mean', () => {
  const hp = resolveHparams({ task_names: ['rte', 'mrpc'], learning_rate: 3e-4, task_hparams: { mrpc: { learning_rate: 1e-4, max_seq_length: 64 } } }).hparams;
  assert.deepEqual([taskHparams(hp, 'mrpc').learning_rate, taskHparams(hp, 'mrpc').max_seq_length, taskHparams(hp, 'mrpc').train_batch_size], [1e-4, 64, 32]);
  assert.deepEqual([taskHparams(hp, 'rte').learning_rate, taskHparams(hp, 'rte').max_seq_length], [3e-4, 128]);
  const bad = (task_hparams: unknown, extra: Record<string, unknown> = {}): (() => unknown) => () => resolveHparams({ task_names: ['rte', 'mrpc'], task_hparams, ...extra });
  assert.throws(bad({ mrcp: { learning_rate: 1e-4 } }), /'task_hparams' names 'mrcp', which is not in 'task_names' \(rte, mrpc\): did you mean 'mrpc'\?/);
  assert.throws(bad({ mrpc: { learning_rat: 1e-4 } }), /unknown hparam 'task_hparams\.mrpc\.learning_rat' \(did you mean 'task_hparams\.mrpc\.learning_rate'\?\)/);
  assert.throws(bad({ mrpc: { warmup_proportion: 0.2 } }), /unknown hparam 'task_hparams\.mrpc\.warmup_proportion' \(expected one of learning_rate, num_train_epochs, max_seq_length, train_batch_size\)/);
  assert.throws(bad({ mrpc: { train_batch_size: 2.5 } }), /'task_hparams\.mrpc\.train_batch_size' must be an integer >= 1, got 2\.5/);
  assert.throws(bad({ mrpc: 3 }), /'task_hparams\.mrpc' must be an object/);
  assert.throws(bad([]), /'task_hparams' must be an object of task names/);
  assert.throws(bad({ mrpc: { train_batch_size: 6 } }, { gradient_accumulation_steps: 4, train_batch_size: 8 }),
    /'task_hparams\.mrpc\.train_batch_size' 6 is not a multiple of 'gradient_accumulation_steps' 4/);
  assert.throws(() => resolveHparams({ task_names: ['squad', 'rte'], task_hparams: { squad: { max_seq_length: 40 } } }),
    /'max_query_length' \(64\) leaves no room for the passage in 'task_hparams\.squad\.max_seq_length' \(40\)/);
});

test('the batch plan: every task its own number of updates, mixed through the run, fixed by the seed', () => {
  const plan = batchPlan([30, 10], 5);
  assert.deepEqual([plan.filter((t) => t === 0).length, plan.filter((t) => t === 1).length], [30, 10]);
  assert.deepEqual(batchPlan([30, 10], 5), plan, 'the same seed, the same plan');
  assert.notDeepEqual(batchPlan([30, 10], 6), plan);
  // Mixed in proportion: each half of the run holds some of the smaller task's updates.
  assert.ok(plan.slice(0, 20).includes(1) && plan.slice(20).includes(1), plan.join(''));
});

test('AdamW.update leaves frozen runs (weights and moments) alone and updates the rest as without them', () => {
  const make = (): AdamW => {
    const ps = new ParameterSet();
    for (const name of ['a', 'b', 'c', 'd']) ps.declare(name, [5], { kind: 'zeros' });
    ps.allocate();
    ps.params.set(randomArray(20, 1));
    ps.grads.set(randomArray(20, 2, 0.1));
    return new AdamW(jsKernels, ps, ELECTRA_ADAMW);
  };
  const [free, partly] = [make(), make()];
  const before = Float32Array.from(partly.params.params);
  free.update(0.01);
  partly.update(0.01, [{ offset: 5, size: 5 }, { offset: 15, size: 5 }]);
  for (let i = 0; i < 20; i++) {
    const frozen = (i >= 5 && i < 10) || i >= 15;
    if (frozen) assert.deepEqual([partly.params.params[i], partly.m[i], partly.v[i]], [before[i], 0, 0], `frozen ${i}`);
    else assert.deepEqual([partly.params.params[i], partly.m[i]], [free.params.params[i], free.m[i]], `updated ${i}`);
  }
});

const dir = new TempDir('ft-task-hparams-');
writeGlue(dir);
after(() => dir.remove());

// rte: 12 pairs in batches of 2 for 2 epochs = 12 updates; mrpc: 10 pairs, both ways round (double_unordered) = 20,
// in batches of 4 for 1 epoch at length 8 = 5.
const HPARAMS = {
  ...SIZE, task_names: ['rte', 'mrpc'], random_init: true, num_train_epochs: 2, train_batch_size: 2, max_seq_length: 32,
  learning_rate: 1e-3, save_checkpoints_steps: 5, data_dir: dir.path,
  task_hparams: { mrpc: { train_batch_size: 4, num_train_epochs: 1, max_seq_length: 8, learning_rate: 3e-4 } },
};

function run(modelName: string, extra: Partial<FinetuneOptions> = {}, lines: string[] = [], hparams: Record<string, unknown> = HPARAMS) {
  const { hparams: hp } = resolveHparams({ ...hparams, model_name: modelName });
  return runFinetuning({ hparams: hp, log: (l) => lines.push(l), progressStream: quiet, ...extra });
}
const trialDir = (name: string): string => join(dir.path, 'models', name, 'finetuning_models', 'rte,mrpc_model_1');
const weights = (name: string) => readSafetensors(join(trialDir(name), 'model.safetensors')).tensors;

test('a multi-task run with task_hparams: single-task batches at each task\'s settings; stopped and rerun, it ends exactly as a straight run', () => {
  const lines: string[] = [];
  const straight = run('straight', {}, lines);
  assert.equal(straight.trainSteps, 17);
  assert.ok(lines.some((l) => l === 'training for 17 steps in single-task batches: rte 12 (6 per epoch, batch 2, lr 0.001), mrpc 5 (5 per epoch, batch 4, lr 0.0003)'), lines.join('\n'));
  assert.match(lines.find((l) => l.startsWith('mrpc train:')) ?? '', /20 truncated to 8 tokens/, 'mrpc features at its own max_seq_length');
  assert.doesNotMatch(lines.find((l) => l.startsWith('rte train:')) ?? '', /truncated to 8/);
  assert.deepEqual([...straight.trials[0]!.keys()], ['rte', 'mrpc']);

  // Aborted after update 7 (checkpoint-5 made way for checkpoint-7), then rerun.
  const controller = new AbortController();
  const first = run('resumed', { signal: controller.signal, onStep: (_t, step) => { if (step === 7) controller.abort(); } });
  assert.equal(first.interrupted, true);
  assert.deepEqual(listCheckpoints(trialDir('resumed')).map((c) => c.step), [7]);
  const state = readFinetuningState(join(trialDir('resumed'), 'checkpoint-7'));
  assert.deepEqual([state.step, state.trainSteps, state.epoch, state.batchInEpoch], [7, 17, 1, 7]);
  const second = run('resumed');
  assert.deepEqual([...second.resumedFrom], [[1, 7]]);
  assert.deepEqual(second.trials, straight.trials);
  const [a, b] = [weights('straight'), weights('resumed')];
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, name);

  // Without task_hparams the same tasks train in mixed batches at the global settings.
  const mixedLines: string[] = [];
  const mixed = run('mixed', {}, mixedLines, { ...HPARAMS, task_hparams: {} });
  assert.equal(mixed.trainSteps, 32);
  assert.ok(mixedLines.some((l) => l === 'training for 32 steps (16 per epoch, batch 2)'), mixedLines.join('\n'));
});
