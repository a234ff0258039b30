// `electra finetune` end to end on small files in the GLUE and SQuAD 2.0 formats that the test
// writes: a pre-trained folder found under models/<name>, two tasks trained together over two
// trials, results and median, model folders, test predictions, QA prediction files, errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readHfFolder } from '../../src/io/hf-folder.js';
import { resolveHparams } from '../../src/finetune/hparams.js';
import { runFinetuning } from '../../src/finetune/runner.js';
import { TempDir } from '../finetune/fixtures.js';
import { quiet, SIZE, writeGlue, writePretrained, writeSquad } from './fixtures.js';

function electra(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(process.cwd(), 'bin', 'electra.js'), ...args], { encoding: 'utf8' });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('electra finetune: rte and mrpc together from a pre-trained checkpoint, two trials, results, median, models, test predictions', () => {
  const dir = new TempDir('ft-cli-');
  try {
    writeGlue(dir);
    writePretrained(dir, 'tiny');
    const hparams = {
      ...SIZE, task_names: ['rte', 'mrpc'], num_trials: 2, num_train_epochs: 2, max_seq_length: 48, train_batch_size: 8,
      learning_rate: 1e-3, write_test_outputs: true,
    };
    const r = electra(['finetune', '--data-dir', dir.path, '--model-name', 'tiny', '--hparams', JSON.stringify(hparams)]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /fine-tuning from .*models\/tiny\/checkpoint-3\/discriminator \(ElectraForPreTraining\)/);
    // mrpc's training pairs are doubled (double_unordered): 12 + 2 * 10 features, batches of 8 -> 4 steps an epoch.
    assert.match(r.stderr, /training for 8 steps \(4 per epoch, batch 8\)/);
    assert.match(r.stderr, /rte,mrpc trial 1\/2 epoch 2\/2 \[#+\] 100\.0% 4\/4 .* loss \d+\.\d{4}/);
    const results = join(dir.path, 'models', 'tiny', 'results');
    const lines = readFileSync(join(results, 'rte,mrpc_results.txt'), 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 4, 'a line per task and trial');
    assert.match(lines[0]!, /^rte: accuracy: \d+\.\d\d - loss: \d+\.\d\d$/);
    assert.match(lines[1]!, /^mrpc: accuracy: \d+\.\d\d - f1: \d+\.\d\d - loss: \d+\.\d\d$/);
    assert.match(lines[2]!, /^rte: /);
    const json = JSON.parse(readFileSync(join(results, 'rte,mrpc_results.json'), 'utf8')) as {
      trials: Record<string, Record<string, number>>[]; median: Record<string, Record<string, number>>;
    };
    assert.equal(json.trials.length, 2);
    const accs = json.trials.map((t) => t['rte']!['accuracy']!);
    assert.ok(Math.abs(json.median['rte']!['accuracy']! - (accs[0]! + accs[1]!) / 2) < 1e-9, 'median of two trials');
    assert.match(r.stderr, /^rte \(median of 2\): accuracy: /m);
    assert.equal(r.stdout, `${join(results, 'rte,mrpc_results.txt')}\n${join(results, 'rte,mrpc_results.json')}\n`);
    for (const trial of [1, 2]) {
      const model = readHfFolder(join(dir.path, 'models', 'tiny', 'finetuning_models', `rte,mrpc_model_${trial}`), { validate: false });
      assert.deepEqual(model.config.architectures, ['ElectraModel']);
      assert.ok(model.tensors.has('task_specific.rte.classifier.weight') && model.tensors.has('task_specific.mrpc.classifier.weight'));
      const preds = JSON.parse(readFileSync(join(dir.path, 'models', 'tiny', 'test_predictions', `rte_test_${trial}_predictions.json`), 'utf8')) as Record<string, number[]>;
      assert.deepEqual(Object.keys(preds).sort(), ['0', '1', '2']);
      assert.equal(preds['0']!.length, 2, 'logits per test example');
      const dev = JSON.parse(readFileSync(join(dir.path, 'models', 'tiny', 'test_predictions', `mrpc_dev_${trial}_predictions.json`), 'utf8')) as Record<string, number[]>;
      assert.deepEqual(Object.keys(dev).sort(), ['0', '1', '2', '3', '4', '5'], 'dev logits per example');
    }
  } finally {
    dir.remove();
  }
});

test('electra finetune: SQuAD 2.0 with the reference QA head writes EM/F1 and the prediction files; do_train off re-evaluates the saved model', () => {
  const dir = new TempDir('ft-cli-qa-');
  try {
    writeSquad(dir);
    const hparams = {
      ...SIZE, random_init: true, task_names: ['squad'], max_seq_length: 40, max_query_length: 12, doc_stride: 8,
      num_train_epochs: 2, train_batch_size: 8, beam_size: 5,
    };
    const r = electra(['finetune', '--data-dir', dir.path, '--model-name', 'scratch', '--hparams', JSON.stringify(hparams)]);
    assert.equal(r.status, 0, r.stderr);
    const results = join(dir.path, 'models', 'scratch', 'results');
    const line = readFileSync(join(results, 'squad_results.txt'), 'utf8');
    assert.match(line, /^squad: HasAns_exact: \d+\.\d\d - HasAns_f1: \d+\.\d\d - HasAns_total: 4\.00 - NoAns_exact: \d+\.\d\d - NoAns_f1: \d+\.\d\d - NoAns_total: 2\.00 - best_exact: .* - exact: \d+\.\d\d - f1: \d+\.\d\d - total: 6\.00\n$/);
    const preds = JSON.parse(readFileSync(join(results, 'squad_qa', 'squad_preds.json'), 'utf8')) as Record<string, string>;
    assert.deepEqual(Object.keys(preds).sort(), ['q10a', 'q10b', 'q10c', 'q11a', 'q11b', 'q11c']);
    const odds = JSON.parse(readFileSync(join(results, 'squad_qa', 'squad_null_odds.json'), 'utf8')) as Record<string, number>;
    assert.ok(Object.values(odds).every(Number.isFinite));
    assert.ok(existsSync(join(results, 'squad_qa', 'squad_nbest.json')));
    const modelDir = join(dir.path, 'models', 'scratch', 'finetuning_models', 'squad_model_1');
    const model = readHfFolder(modelDir, { validate: false });
    assert.deepEqual(model.config.architectures, ['ElectraModel']);
    for (const t of ['start_logits', 'qa_hidden', 'qa_logits', 'answer_class_hidden', 'answer_class']) {
      assert.ok(model.tensors.has(`task_specific.squad.${t}.weight`), t);
    }
    // Evaluation only: the saved model scores exactly as at the end of training.
    const again = electra(['finetune', '--data-dir', dir.path, '--model-name', 'scratch', '--hparams', JSON.stringify({ ...hparams, do_train: false })]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /evaluating .*squad_model_1/);
    assert.equal(readFileSync(join(results, 'squad_results.txt'), 'utf8'), line);
  } finally {
    dir.remove();
  }
});

test('fine-tuning continues from a fine-tuned folder: HF-style heads are saved as transformers classes and picked up again', () => {
  const dir = new TempDir('ft-continue-');
  try {
    writeGlue(dir);
    const base = { ...SIZE, data_dir: dir.path, task_names: ['rte'], num_train_epochs: 1, train_batch_size: 8 };
    const first = runFinetuning({
      hparams: resolveHparams({ ...base, model_name: 'a', random_init: true, head_style: 'hf' }).hparams, log: () => {}, progressStream: quiet,
    });
    assert.equal(readHfFolder(first.modelDirs[0]!).architecture, 'ElectraForSequenceClassification');
    const lines: string[] = [];
    const second = runFinetuning({
      hparams: resolveHparams({ ...base, model_name: 'b', init_checkpoint: first.modelDirs[0]! }).hparams, log: (l) => lines.push(l), progressStream: quiet,
    });
    assert.ok(lines.some((l) => /^continuing the rte head\(s\) from .*rte_model_1$/.test(l)), lines.join('\n'));
    const again = readHfFolder(second.modelDirs[0]!);
    assert.equal(again.architecture, 'ElectraForSequenceClassification');
    assert.deepEqual(Object.values(again.config.id2label), ['entailment', 'not_entailment']);
  } finally {
    dir.remove();
  }
});

test('electra finetune --model-name NAME where models/NAME holds a TF checkpoint and vocab.txt (a release as shipped): converted once, then fine-tuned', () => {
  const dir = new TempDir('ft-cli-tf-');
  try {
    writeGlue(dir);
    writePretrained(dir, 'tiny');
    const released = join(dir.path, 'models', 'released');
    let r = electra(['convert', '--to', 'tf', '--model', join(dir.path, 'models', 'tiny', 'checkpoint-3', 'discriminator'), '--output-dir', released, '--name', 'electra_small']);
    assert.equal(r.status, 0, r.stderr);
    copyFileSync(join(dir.path, 'models', 'tiny', 'checkpoint-3', 'discriminator', 'vocab.txt'), join(released, 'vocab.txt'));
    const hparams = JSON.stringify({ ...SIZE, task_names: ['rte'], num_train_epochs: 1, max_seq_length: 48, train_batch_size: 8 });
    r = electra(['finetune', '--data-dir', dir.path, '--model-name', 'released', '--hparams', hparams]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /converted the TensorFlow checkpoint .*released\/electra_small \(hidden_size 32, 1 layers, 2 heads/);
    assert.match(r.stderr, /fine-tuning from .*models\/released\/discriminator \(ElectraForPreTraining\)/);
    r = electra(['finetune', '--data-dir', dir.path, '--model-name', 'released', '--hparams', hparams]);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /converted the TensorFlow checkpoint/);
  } finally {
    dir.remove();
  }
});

test('electra finetune: clear errors for a missing task folder, a model of another size, unknown hparams', () => {
  const dir = new TempDir('ft-cli-err-');
  try {
    writePretrained(dir, 'tiny');
    let r = electra(['finetune', '--data-dir', dir.path, '--model-name', 'tiny', '--hparams', JSON.stringify({ ...SIZE, task_names: ['rte'] })]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /task rte: its data folder .*finetuning_data\/rte does not exist \(expected train\.tsv, dev\.tsv there\)/);
    writeGlue(dir);
    r = electra(['finetune', '--data-dir', dir.path, '--model-name', 'tiny', '--hparams', '{"task_names": ["rte"]}']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /discriminator: the model does not match the hparams: hidden_size 32 \(model_size 'small' means 256\)/);
    assert.match(r.stderr, /"model_hparam_overrides": \{"hidden_size":32,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":64,"max_position_embeddings":128\} and "embedding_size": 16/);
    r = electra(['finetune', '--data-dir', dir.path, '--model-name', 'tiny', '--hparams', '{"task_names": ["rte"], "learning_rte": 1}']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown hparam 'learning_rte' \(did you mean 'learning_rate'\?\)/);
    r = electra(['finetune', '--data-dir', dir.path, '--model-name', 'missing', '--hparams', '{"task_names": ["rte"]}']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no pre-trained model at .*models\/missing/);
  } finally {
    dir.remove();
  }
});
