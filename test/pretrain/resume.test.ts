// Checkpoints and resuming: a run interrupted anywhere (an abort between updates, or SIGKILL in the
// middle of writing a checkpoint) and rerun continues exactly as an uninterrupted run: the same
// metrics log and the same final weights. Also the checkpoint layout, pruning and non-finite losses.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { electraTensorSpec } from '../../src/io/electra-names.js';
import { readHfFolder } from '../../src/io/hf-folder.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { resolvePretrainingHparams, type PretrainingHparams } from '../../src/pretrain/hparams.js';
import { listCheckpoints, readTrainingState } from '../../src/pretrain/checkpoint.js';
import { METRICS_FILE, NonFiniteLossError, runPretraining, type StepLog } from '../../src/pretrain/run.js';
import { cliPath, makeTinyDataDir, tinyHparams, type TinyDataDir } from './fixtures.js';

let data: TinyDataDir;
before(async () => {
  data = await makeTinyDataDir('resume');
});
after(() => data.cleanup());

const quiet = { progress: false, log: (): void => {} };

function hparams(name: string, extra: Record<string, unknown> = {}): PretrainingHparams {
  return resolvePretrainingHparams(tinyHparams(data.vocab.length, extra), data.dataDir, name).hparams;
}

function readLog(modelDir: string): StepLog[] {
  return readFileSync(join(modelDir, METRICS_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as StepLog);
}

const LOSSES = ['loss', 'masked_lm_loss', 'disc_loss', 'disc_accuracy', 'masked_lm_accuracy', 'learning_rate', 'grad_norm'] as const;

/** Same steps, same losses (float tolerance; in practice bit-identical). */
function assertSameLog(actual: StepLog[], expected: StepLog[], what: string): void {
  assert.deepEqual(actual.map((e) => e.step), expected.map((e) => e.step), `${what}: logged steps`);
  for (let i = 0; i < expected.length; i++) {
    for (const key of LOSSES) {
      const a = actual[i]![key];
      const e = expected[i]![key];
      assert.ok(Math.abs(a - e) <= 1e-6 * Math.max(1, Math.abs(e)), `${what}: step ${expected[i]!.step} ${key} ${a} != ${e}`);
    }
  }
}

function assertSameWeights(dirA: string, dirB: string, role: string): void {
  const a = readSafetensors(join(dirA, role, 'model.safetensors')).tensors;
  const b = readSafetensors(join(dirB, role, 'model.safetensors')).tensors;
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [name, t] of a) assert.deepEqual(b.get(name)!.data, t.data, `${role} ${name}`);
}

let reference: { dir: string; log: StepLog[] };

test('an uninterrupted run writes HF folders, optimizer state, training state and the metrics log', async () => {
  const hp = hparams('straight');
  const r = await runPretraining(hp, quiet);
  assert.equal(r.step, 12);
  assert.equal(r.resumedFrom, 0);
  // keep_checkpoint_max 2: the two newest of 4, 8, 12.
  assert.deepEqual(listCheckpoints(hp.model_dir).map((c) => c.step), [8, 12]);
  assert.deepEqual(readdirSync(hp.model_dir).sort(), ['checkpoint-12', 'checkpoint-8', 'hparams.json', 'metrics.jsonl']);
  const ckpt = join(hp.model_dir, 'checkpoint-12');
  assert.deepEqual(readdirSync(ckpt).sort(), ['discriminator', 'generator', 'optimizer.safetensors', 'training_state.json']);
  // Exactly the tensors transformers expects for each class, read back by the HF folder reader.
  const disc = readHfFolder(join(ckpt, 'discriminator'));
  const gen = readHfFolder(join(ckpt, 'generator'));
  assert.equal(disc.architecture, 'ElectraForPreTraining');
  assert.equal(gen.architecture, 'ElectraForMaskedLM');
  assert.deepEqual([...disc.tensors.keys()].sort(), electraTensorSpec(disc.config).map((s) => s.name).sort());
  assert.deepEqual([...gen.tensors.keys()].sort(), electraTensorSpec(gen.config).map((s) => s.name).sort());
  assert.deepEqual([disc.config.hidden_size, disc.config.num_hidden_layers, disc.config.embedding_size, disc.config.vocab_size], [32, 2, 16, data.vocab.length]);
  assert.deepEqual([gen.config.hidden_size, gen.config.num_hidden_layers, gen.config.num_attention_heads], [16, 2, 1]);
  assert.deepEqual(disc.vocab, data.vocab);
  // Shared embeddings: the same values in both folders.
  assert.deepEqual(gen.tensors.get('electra.embeddings.word_embeddings.weight')!.data, disc.tensors.get('electra.embeddings.word_embeddings.weight')!.data);
  const state = readTrainingState(ckpt);
  assert.equal(state.step, 12);
  assert.equal(state.seed, 7);
  assert.equal(state.data!.seed, 7);
  assert.ok(state.data!.epoch * 1e9 + state.data!.position > 0, 'the data position moved');
  const slots = readSafetensors(join(ckpt, 'optimizer.safetensors')).tensors;
  assert.ok(slots.has('electra.embeddings.word_embeddings.weight.adam_v'));
  assert.ok([...slots.values()].some((t) => t.data.some((x) => x !== 0)), 'moments are saved, not zeros');
  const log = readLog(hp.model_dir);
  assert.deepEqual(log.map((e) => e.step), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.equal(log[0]!.learning_rate, 0, 'warmup starts at 0 as the reference');
  assert.ok(log.every((e) => Number.isFinite(e.loss) && e.tokens_per_second > 0));
  reference = { dir: ckpt, log };

  // Rerunning a finished run does nothing more.
  const again = await runPretraining(hp, quiet);
  assert.equal(again.step, 12);
  assert.equal(again.resumedFrom, 12);
  assertSameLog(readLog(hp.model_dir), log, 'rerun of a finished run');
});

test('aborted between updates: a checkpoint is saved there and the rerun continues exactly', async () => {
  const hp = hparams('aborted');
  const controller = new AbortController();
  const first = await runPretraining(hp, { ...quiet, signal: controller.signal, onStep: (e) => { if (e.step === 6) controller.abort(); } });
  assert.equal(first.interrupted, true);
  assert.equal(first.step, 6);
  assert.deepEqual(listCheckpoints(hp.model_dir).map((c) => c.step), [4, 6]);
  const second = await runPretraining(hp, quiet);
  assert.equal(second.resumedFrom, 6);
  assert.equal(second.step, 12);
  assertSameLog(readLog(hp.model_dir), reference.log, 'aborted and resumed');
  assertSameWeights(join(hp.model_dir, 'checkpoint-12'), reference.dir, 'discriminator');
  assertSameWeights(join(hp.model_dir, 'checkpoint-12'), reference.dir, 'generator');
});

test('SIGKILL while writing a checkpoint: the rerun of the same command resumes from the last complete one', () => {
  const hp = tinyHparams(data.vocab.length);
  const args = [cliPath, 'pretrain', '--data-dir', data.dataDir, '--model-name', 'killed', '--hparams', JSON.stringify(hp), '--quiet'];
  const modelDir = join(data.dataDir, 'models', 'killed');
  const killed = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, ELECTRA_TEST_KILL_IN_CHECKPOINT: '8' } });
  assert.equal(killed.signal, 'SIGKILL', `the child should die by SIGKILL: ${killed.stderr}`);
  // Killed with checkpoint-8 half written: only checkpoint-4 is complete; the log already reaches step 8.
  assert.deepEqual(listCheckpoints(modelDir).map((c) => c.step), [4]);
  assert.ok(readdirSync(modelDir).some((n) => n.startsWith('.checkpoint-8.partial-')), 'the staging folder is left behind');
  assert.equal(readLog(modelDir).at(-1)!.step, 8);

  const rerun = spawnSync(process.execPath, args, { encoding: 'utf8' });
  assert.equal(rerun.status, 0, rerun.stderr);
  assert.match(rerun.stdout, /removed 1 unfinished checkpoint folder/);
  assert.match(rerun.stdout, /resuming from .*checkpoint-4 \(step 4\)/);
  assert.ok(!readdirSync(modelDir).some((n) => n.startsWith('.')), 'no staging folders remain');
  assert.deepEqual(listCheckpoints(modelDir).map((c) => c.step), [8, 12]);
  assertSameLog(readLog(modelDir), reference.log, 'killed and resumed (separate processes)');
  assertSameWeights(join(modelDir, 'checkpoint-12'), reference.dir, 'discriminator');
  assertSameWeights(join(modelDir, 'checkpoint-12'), reference.dir, 'generator');
});

test('a non-finite loss stops the run naming the step and the last good checkpoint', async () => {
  const hp = hparams('diverged', { learning_rate: 1e30, num_warmup_steps: 0, save_checkpoints_steps: 1, keep_checkpoint_max: 0 });
  let error: unknown;
  try {
    await runPretraining(hp, quiet);
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof NonFiniteLossError, `expected NonFiniteLossError, got ${String(error)}`);
  const last = listCheckpoints(hp.model_dir).at(-1)!;
  assert.equal(error.step, last.step + 1, 'the failing step is the one after the last checkpoint (saved every step)');
  assert.equal(error.lastCheckpoint, last.dir);
  assert.match(error.message, new RegExp(`at step ${error.step}; stopped without saving\\. The last good checkpoint is .*checkpoint-${last.step}`));
  assert.ok(!existsSync(join(hp.model_dir, `checkpoint-${error.step}`)));
  // The CLI reports it as a runtime failure: exit 1 (README, "Exit status").
  const cli = spawnSync(process.execPath, [cliPath, 'pretrain', '--data-dir', data.dataDir, '--model-name', 'diverged-cli', '--quiet',
    '--hparams', JSON.stringify(tinyHparams(data.vocab.length, { learning_rate: 1e30, num_warmup_steps: 0 }))], { encoding: 'utf8' });
  assert.equal(cli.status, 1);
  assert.match(cli.stderr, /electra pretrain: the (loss|gradient norm) is .* at step \d+; stopped without saving\. No checkpoint was written yet/);
});

test('electra_objective false trains a masked LM alone: generator folder only, generator metrics only', async () => {
  const hp = hparams('mlm', { electra_objective: false, num_train_steps: 4, do_eval: true, num_eval_steps: 2 });
  const r = await runPretraining(hp, quiet);
  assert.equal(r.step, 4);
  assert.deepEqual(readdirSync(join(hp.model_dir, 'checkpoint-4')).sort(), ['generator', 'optimizer.safetensors', 'training_state.json']);
  // Without ELECTRA the "generator" is the full-size model (hidden 32).
  assert.equal(readHfFolder(join(hp.model_dir, 'checkpoint-4', 'generator')).config.hidden_size, 32);
  const txt = readFileSync(hp.results_txt, 'utf8');
  assert.match(txt, /masked_lm_loss = /);
  assert.doesNotMatch(txt, /disc_/);
  // Evaluating again later (do_train false) reads the newest checkpoint and gives the same numbers.
  const again = await runPretraining(hparams('mlm', { electra_objective: false, num_train_steps: 4, do_train: false, do_eval: true, num_eval_steps: 2 }), quiet);
  assert.equal(again.step, 4);
  assert.deepEqual(again.eval, r.eval);
  // Other objective settings than the checkpoint's are allowed but pointed out.
  const lines: string[] = [];
  await runPretraining(hparams('mlm', { electra_objective: false, num_train_steps: 4, do_train: false, do_eval: true, num_eval_steps: 1, mask_prob: 0.2 }),
    { progress: false, log: (l) => lines.push(l) });
  assert.ok(lines.some((l) => /note: "mask_prob" is 0\.2 but .*checkpoint-4 was trained with 0\.15/.test(l)), lines.join('\n'));
});

test('resuming with hparams that change the model or the seed is refused, naming the field', async () => {
  // 'straight' was trained by the first test with the tiny hparams and seed 7.
  const bigger = hparams('straight', {
    num_train_steps: 20, model_hparam_overrides: { hidden_size: 48, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 64, max_position_embeddings: 64 },
  });
  await assert.rejects(runPretraining(bigger, quiet),
    /discriminator\/config\.json: the discriminator of this checkpoint does not fit the hparams: "hidden_size" is 32 here but the hparams give 48 \(resume with the hparams the run started with/);
  await assert.rejects(runPretraining(hparams('straight', { num_train_steps: 20, seed: 8 }), quiet),
    /"seed" is 8 but .*checkpoint-12 was trained with seed 7: resume with "seed": 7/);
  // Neither attempt changed the model dir.
  const dir = join(data.dataDir, 'models', 'straight');
  assert.deepEqual(listCheckpoints(dir).map((c) => c.step), [8, 12]);
  assert.equal((JSON.parse(readFileSync(join(dir, 'hparams.json'), 'utf8')) as { seed: number }).seed, 7);
  assert.equal(readLog(dir).length, 12);
});
