// Fine-tuning hparams: reference defaults and overrides, JSON/file parsing, clear errors.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_HPARAMS, parseHparams, resolveHparams, finetuningPaths } from '../../src/finetune/hparams.js';
import { TempDir } from './fixtures.js';

const dir = new TempDir();
after(() => dir.remove());

test('defaults are the reference configure_finetuning values', () => {
  const hp = resolveHparams({ task_names: ['mnli'] }).hparams;
  assert.equal(hp.learning_rate, 1e-4);
  assert.equal(hp.layerwise_lr_decay, 0.8);
  assert.equal(hp.weight_decay_rate, 0.01);
  assert.equal(hp.num_train_epochs, 3);
  assert.equal(hp.warmup_proportion, 0.1);
  assert.equal(hp.train_batch_size, 32);
  assert.equal(hp.eval_batch_size, 32);
  assert.equal(hp.max_seq_length, 128);
  assert.equal(hp.num_trials, 1);
  assert.equal(hp.double_unordered, true);
  assert.equal(hp.n_best_size, 20);
  assert.equal(hp.max_answer_length, 30);
  assert.equal(hp.answerable_weight, 0.5);
  assert.equal(hp.qa_na_threshold, -2.75);
  assert.equal(hp.doc_stride, 128);
  assert.equal(hp.max_query_length, 64);
  assert.equal(hp.beam_size, 20);
  assert.equal(hp.joint_prediction, true);
  assert.equal(hp.layerwise_lr_decay_fix_top, false);
  assert.equal(hp.embedding_size, 128, 'small models force embedding size 128');
  assert.deepEqual(DEFAULT_HPARAMS.task_names, ['chunk']);
});

test('single-task and model-size overrides, and the user value always wins', () => {
  assert.equal(resolveHparams({ task_names: ['rte'] }).hparams.num_train_epochs, 10);
  assert.equal(resolveHparams({ task_names: ['sts'] }).hparams.num_train_epochs, 10);
  const squad = resolveHparams({ task_names: ['squad'] }).hparams;
  assert.deepEqual([squad.max_seq_length, squad.num_train_epochs], [512, 2]);
  const newsqa = resolveHparams({ task_names: ['newsqa'] }).hparams;
  assert.deepEqual([newsqa.max_seq_length, newsqa.num_train_epochs], [512, 2]);
  // The reference's substring test misses naturalqs ("qs", not "qa"): it keeps 128 tokens and 3 epochs.
  const nq = resolveHparams({ task_names: ['naturalqs'] }).hparams;
  assert.deepEqual([nq.max_seq_length, nq.num_train_epochs], [128, 3]);
  assert.equal(resolveHparams({ task_names: ['chunk'] }).hparams.max_seq_length, 256);
  assert.equal(resolveHparams({ task_names: ['rte', 'sts'] }).hparams.num_train_epochs, 3, 'multi-task keeps the defaults');
  assert.equal(resolveHparams({ task_names: ['rte'], num_train_epochs: 4 }).hparams.num_train_epochs, 4);
  const large = resolveHparams({ model_size: 'large' }).hparams;
  assert.deepEqual([large.learning_rate, large.layerwise_lr_decay, large.embedding_size], [5e-5, 0.9, null]);
  assert.equal(resolveHparams({ model_size: 'large', learning_rate: 3e-5 }).hparams.learning_rate, 3e-5);
  assert.equal(resolveHparams({ model_size: 'base' }).hparams.learning_rate, 1e-4);
  const debug = resolveHparams({ debug: true, num_train_epochs: 1 }).hparams;
  assert.deepEqual([debug.log_examples, debug.num_train_epochs], [true, 1]);
});

test('unknown keys and wrong types are rejected with the key and the expected type', () => {
  assert.throws(() => resolveHparams({ learning_rat: 1e-4 }), /^UsageError: hparams: unknown hparam 'learning_rat' \(did you mean 'learning_rate'\?\)$/);
  assert.throws(() => resolveHparams({ learning_rate: '1e-4' }), /'learning_rate' must be a number > 0, got "1e-4" \(a string\)/);
  assert.throws(() => resolveHparams({ train_batch_size: 2.5 }), /'train_batch_size' must be an integer >= 1, got 2\.5 \(a number\)/);
  assert.throws(() => resolveHparams({ model_size: 'tiny' }), /'model_size' must be one of 'small', 'base', 'large', got "tiny"/);
  assert.throws(() => resolveHparams({ task_names: 'mnli' }), /'task_names' must be a non-empty list of strings/);
  assert.throws(() => resolveHparams({ double_unordered: 1 }), /'double_unordered' must be true or false, got 1/);
  assert.throws(() => resolveHparams({ warmup_proportion: 1.5 }), /'warmup_proportion' must be a number in \[0, 1\]/);
  assert.throws(() => resolveHparams({ use_tpu: true }), /'use_tpu' must be false \(electra-ts runs on the CPU\), got true/);
  assert.throws(() => resolveHparams({ task_names: ['squad'], max_query_length: 200, max_seq_length: 128 }), /'max_query_length' \(200\) leaves no room for the passage in 'max_seq_length' \(128\)/);
  assert.throws(() => resolveHparams({ write_distill_outputs: true }), /'write_distill_outputs' cannot be set here: the reference sets it internally/);
  assert.throws(() => resolveHparams({ task_names: ['rte', 'rte'] }), /'task_names' lists a task twice/);
  assert.throws(() => resolveHparams({ head_style: 'tf' }), /'head_style' must be one of 'electra', 'hf' or null, got "tf"/);
  assert.throws(() => resolveHparams({ model_hparam_overrides: { hidden_size: [1] } }), /'model_hparam_overrides\.hidden_size' must be a number, string or boolean/);
  const { ignored } = resolveHparams({ use_tpu: false, iterations_per_loop: 1000 });
  assert.deepEqual(ignored, ['use_tpu', 'iterations_per_loop']);
});

test('--hparams as JSON text or a .json file; errors name the source', () => {
  assert.equal(parseHparams('{"task_names": ["cola"], "learning_rate": 3e-4}').hparams.learning_rate, 3e-4);
  const file = dir.write('hp.json', JSON.stringify({ task_names: ['sts'], train_batch_size: 16 }));
  const hp = parseHparams(file).hparams;
  assert.deepEqual([hp.task_names, hp.train_batch_size, hp.num_train_epochs], [['sts'], 16, 10]);
  assert.throws(() => parseHparams('{"task_names": ['), /--hparams: invalid JSON/);
  assert.throws(() => parseHparams('[1, 2]'), /--hparams: expected a JSON object of hparams, got a list/);
  assert.throws(() => parseHparams(dir.path + '/missing.json'), /--hparams: file not found: .*missing\.json/);
  const bad = dir.write('bad.json', '{"eval_batch_size": "32"}');
  assert.throws(() => parseHparams(bad), new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: 'eval_batch_size' must be an integer >= 1`));
  assert.equal(parseHparams(undefined).hparams.task_names[0], 'chunk');
});

test('generic task specs: defaults filled in, fields checked', () => {
  const hp = resolveHparams({
    task_names: ['classification', 'spam'],
    classification: { text_a_column: 1, label_column: 0, labels: ['neg', 'pos'], skip_first_line: true },
    custom_tasks: { spam: { type: 'classification', metric: 'accuracy_f1' }, pos: { type: 'tagging', tag_column: 1 } },
  }).hparams;
  assert.equal(hp.classification!.type, 'classification');
  assert.equal(hp.classification!.text_b_column, null);
  assert.equal(hp.classification!.delimiter, null);
  assert.equal(hp.classification!.header, true, 'skip_first_line is the older name of header');
  assert.equal(hp.custom_tasks.spam!.type, 'classification');
  assert.equal(hp.custom_tasks.pos!.type === 'tagging' && hp.custom_tasks.pos!.token_level, true);
  assert.throws(() => resolveHparams({ classification: { label_colum: 2 } }), /^UsageError: hparams: unknown hparam 'classification\.label_colum' \(did you mean 'classification\.label_column'\?\)$/);
  assert.throws(() => resolveHparams({ regression: { min_value: 1, max_value: 1 } }), /'regression\.max_value' must be greater than 'regression\.min_value'/);
  assert.throws(() => resolveHparams({ custom_tasks: { x: { metric: 'accuracy' } } }), /^UsageError: hparams: 'custom_tasks\.x\.type' must be one of 'classification', 'regression', 'tagging', got nothing$/);
  assert.throws(() => resolveHparams({ tagging: { type: 'regression' } }), /'tagging\.type' must be 'tagging' here, got "regression" \(a string\)/);
  assert.throws(() => resolveHparams({ custom_tasks: { t: { type: 'tagging', tag_separator: ' ' } } }), /'custom_tasks\.t\.tag_separator' must be a non-empty string without whitespace/);
  assert.throws(() => resolveHparams({ classification: { header: 'yes' } }), /'classification\.header' must be true, false or null, got "yes"/);
  assert.throws(() => resolveHparams({ classification: 3 }), /'classification' must be an object \(a classification task spec\) or null, got 3 \(a number\)/);
  assert.throws(() => resolveHparams({ classification: { labels: [] } }), /'classification\.labels' must be a non-empty list of strings or null, got a list \(\[\]\)/);
});

test('paths follow the reference layout under data_dir', () => {
  const hp = resolveHparams({ data_dir: '/d', model_name: 'm', task_names: ['squad'] }).hparams;
  const p = finetuningPaths(hp);
  assert.equal(p.rawDataDir('squad'), '/d/finetuning_data/squad');
  assert.deepEqual(p.vocabCandidates, ['/d/models/m/vocab.txt', '/d/vocab.txt']);
  assert.equal(p.modelDir, '/d/models/m/finetuning_models/squad_model');
  assert.equal(p.resultsTxt, '/d/models/m/results/squad_results.txt');
  assert.equal(p.qaPredsFile('squad'), '/d/models/m/results/squad_qa/squad_preds.json');
  assert.equal(p.qaNullOddsFile('squad'), '/d/models/m/results/squad_qa/squad_null_odds.json');
});
