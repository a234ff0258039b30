// Pre-training hparams: the reference's names, defaults and rules; every bad input is refused
// before any work, naming the key and the expected value.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../src/errors.js';
import { parsePretrainingHparams, resolvePretrainingHparams } from '../../src/pretrain/hparams.js';
import { checkRunInputs, runPretraining } from '../../src/pretrain/run.js';
import { makeTinyDataDir, tinyHparams, type TinyDataDir } from './fixtures.js';

let data: TinyDataDir;
before(async () => {
  data = await makeTinyDataDir('hparams');
});
after(() => data.cleanup());

test('defaults are the reference\'s (configure_pretraining.py), paths under the data dir', () => {
  const { hparams: hp, ignored } = resolvePretrainingHparams({}, '/d', 'm');
  assert.deepEqual(ignored, []);
  const expected: Record<string, unknown> = {
    debug: false, do_train: true, do_eval: false, electra_objective: true, gen_weight: 1, disc_weight: 50, mask_prob: 0.15,
    learning_rate: 5e-4, lr_decay_power: 1, weight_decay_rate: 0.01, num_warmup_steps: 10000, iterations_per_loop: 200,
    save_checkpoints_steps: 1000, num_train_steps: 1000000, num_eval_steps: 100, keep_checkpoint_max: 5, model_size: 'small',
    embedding_size: 128, vocab_size: 30522, do_lower_case: true, uniform_generator: false, untied_generator_embeddings: false,
    untied_generator: true, generator_layers: 1, generator_hidden_size: 0.25, disallow_correct: false, temperature: 1,
    max_seq_length: 128, train_batch_size: 128, eval_batch_size: 128, max_predictions_per_seq: 19, seed: 0, init_checkpoint: null,
    model_name: 'm', pretrain_tfrecords: join('/d', 'pretrain_tfrecords'), vocab_file: join('/d', 'vocab.txt'),
    model_dir: join('/d', 'models', 'm'), results_txt: join('/d', 'models', 'm', 'results', 'unsup_results.txt'),
  };
  for (const [k, v] of Object.entries(expected)) assert.deepEqual((hp as unknown as Record<string, unknown>)[k], v, k);
});

test('debug mode, derived values and the order the reference applies them in', () => {
  const debug = resolvePretrainingHparams({ debug: true }, '/d', 'm').hparams;
  assert.deepEqual([debug.train_batch_size, debug.num_train_steps, debug.eval_batch_size, debug.iterations_per_loop, debug.num_eval_steps], [8, 20, 4, 1, 2]);
  // Given values win over the debug settings; max_predictions_per_seq follows mask_prob and max_seq_length.
  const given = resolvePretrainingHparams({ debug: true, num_train_steps: 50, mask_prob: 0.25, max_seq_length: 64 }, '/d', 'm').hparams;
  assert.equal(given.num_train_steps, 50);
  assert.equal(given.max_predictions_per_seq, 16);
  // Only small forces embedding_size 128; base uses the hidden size.
  assert.equal(resolvePretrainingHparams({ model_size: 'base' }, '/d', 'm').hparams.embedding_size, null);
  // Electric implies the two-tower generator unless the value is given.
  assert.equal(resolvePretrainingHparams({ electric_objective: true }, '/d', 'm').hparams.two_tower_generator, true);
  assert.equal(resolvePretrainingHparams({}, '/d', 'm').hparams.two_tower_generator, false);
  // The reference's TFRecord glob is kept as given (the data reader expands it).
  assert.equal(resolvePretrainingHparams({ pretrain_tfrecords: '/x/pretrain_tfrecords/pretrain_data.tfrecord*' }, '/d', 'm').hparams.pretrain_tfrecords, '/x/pretrain_tfrecords/pretrain_data.tfrecord*');
});

test('unknown keys, wrong types and unsupported switches are refused naming the key', () => {
  const bad = (values: Record<string, unknown>, pattern: RegExp): void => {
    assert.throws(() => resolvePretrainingHparams(values, '/d', 'm'), (e: unknown) => e instanceof UsageError && pattern.test(e.message));
  };
  bad({ learning_rat: 1e-4 }, /^--hparams: unknown hparam 'learning_rat' \(did you mean 'learning_rate'\?\)$/);
  bad({ learning_rate: '1e-4' }, /^--hparams: 'learning_rate' must be a number >= 0, got "1e-4" \(a string\)$/);
  bad({ train_batch_size: 2.5 }, /'train_batch_size' must be an integer >= 1, got 2\.5 \(a number\)/);
  bad({ max_seq_length: 1024 }, /'max_seq_length' must be an integer in \[8, 512\], got 1024/);
  bad({ model_size: 'huge' }, /'model_size' must be one of 'small', 'base', 'large', got "huge"/);
  bad({ do_eval: 'yes' }, /'do_eval' must be true or false, got "yes"/);
  bad({ model_hparam_overrides: { hidden_size: 'x' } }, /'model_hparam_overrides\.hidden_size' must be an integer >= 1, got "x"/);
  bad({ model_hparam_overrides: { hiden_size: 64 } }, /unknown hparam 'model_hparam_overrides\.hiden_size' \(did you mean 'model_hparam_overrides\.hidden_size'\?\)/);
  bad({ model_hparam_overrides: { zzz: 64 } }, /unknown hparam 'model_hparam_overrides\.zzz' \(expected one of hidden_size, num_hidden_layers, .*layer_norm_eps\)/);
  bad({ keep_checkpoint_max: -1 }, /'keep_checkpoint_max' must be an integer >= 0 or null, got -1/);
  bad({ uniform_generator: 1 }, /'uniform_generator' must be true or false/);
  // Combinations the reference's PretrainingModel cannot build.
  bad({ electric_objective: true, uniform_generator: true }, /'two_tower_generator' \(or 'electric_objective'\) and 'uniform_generator' exclude each other/);
  bad({ electric_objective: true, untied_generator: false }, /needs 'untied_generator': true/);
  bad({ uniform_generator: true, untied_generator: false }, /'uniform_generator' has no generator to share weights with/);
  bad({ use_tpu: true }, /'use_tpu' must be false \(electra-ts runs on the CPU\), got true/);
  bad({ model_name: 'x' }, /'model_name' cannot be set here: the model name comes from --model-name/);
  bad({ do_train: false, do_eval: false }, /nothing to do/);
  bad({ max_seq_length: 128, model_hparam_overrides: { max_position_embeddings: 64 } }, /'max_seq_length' 128 exceeds 'max_position_embeddings' 64/);
  assert.throws(() => resolvePretrainingHparams({}, '/d', '../x'), /--model-name must be a plain folder name/);
  // TPU settings load (reference files carry them) and are reported as ignored.
  assert.deepEqual(resolvePretrainingHparams({ tpu_name: 'x', num_tpu_cores: 8 }, '/d', 'm').ignored, ['tpu_name', 'num_tpu_cores']);
});

test('--hparams takes inline JSON or a file; bad JSON names the source', () => {
  const file = join(data.dataDir, 'hp.json');
  writeFileSync(file, JSON.stringify({ learning_rate: 1e-3, debug: true }));
  assert.equal(parsePretrainingHparams(file, '/d', 'm').hparams.learning_rate, 1e-3);
  assert.equal(parsePretrainingHparams(' {"seed": 3} ', '/d', 'm').hparams.seed, 3);
  assert.throws(() => parsePretrainingHparams('{"seed": }', '/d', 'm'), /--hparams: invalid JSON at line 1 column 10: expected a value/);
  assert.throws(() => parsePretrainingHparams(join(data.dataDir, 'none.json'), '/d', 'm'), /--hparams: file not found: .*none\.json/);
  writeFileSync(file, '[1, 2]');
  assert.throws(() => parsePretrainingHparams(file, '/d', 'm'), /hp\.json: expected a JSON object of hparams/);
});

test('the vocabulary, the dataset manifest and init_checkpoint are checked before any work', async () => {
  const check = (extra: Record<string, unknown>) =>
    resolvePretrainingHparams(tinyHparams(data.vocab.length, extra), data.dataDir, 'checked').hparams;
  assert.equal(checkRunInputs(check({})).special.mask, 4);
  assert.throws(() => checkRunInputs(check({ vocab_size: 30522 })),
    new RegExp(`"vocab_size" is 30522 but .*vocab\\.txt has ${data.vocab.length} tokens: set "vocab_size": ${data.vocab.length}`));
  assert.throws(() => checkRunInputs(check({ max_seq_length: 64 })),
    /"max_seq_length" is 64 but .*manifest\.json says the data was built with 32: set "max_seq_length": 32/);
  assert.throws(() => checkRunInputs(check({ do_lower_case: false })), /"do_lower_case" is false but .* set "do_lower_case": true/);
  assert.throws(() => checkRunInputs(check({ pretrain_tfrecords: join(data.dataDir, 'nothing') })),
    /nothing does not exist; "pretrain_tfrecords" takes a folder, a glob .* Build data with: electra build-pretraining-dataset --corpus-dir CORPUS --vocab-file .*vocab\.txt --output-dir .*nothing --max-seq-length 32/);
  assert.throws(() => checkRunInputs(check({ init_checkpoint: join(data.dataDir, 'no-such-model') })), /"init_checkpoint": .*no-such-model does not exist/);
  assert.throws(() => checkRunInputs(check({ model_hparam_overrides: { hidden_size: 30, num_attention_heads: 4, num_hidden_layers: 1, intermediate_size: 8 } })),
    /hidden_size 30 is not a multiple of its 4 attention heads/);
  // A refused run leaves nothing behind.
  const hp = check({ vocab_size: 99 });
  await assert.rejects(runPretraining(hp, { progress: false, log: () => {} }), /"vocab_size" is 99/);
  assert.equal(existsSync(hp.model_dir), false);
});
