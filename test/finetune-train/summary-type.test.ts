// summary_type 'mean' (electra-ts's hparam): a sentence head on the mean of the real tokens. Its
// folder records it, inference reads the same summary, and the combinations transformers cannot
// express are refused before any work.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../src/errors.js';
import { resolveHparams } from '../../src/finetune/hparams.js';
import { runFinetuning } from '../../src/finetune/runner.js';
import { FinetunedModel } from '../../src/finetune/inference.js';
import { FINETUNING_CONFIG_KEY, headSpecsOf, saveFinetunedModel, type SavedTask } from '../../src/finetune/model/checkpoint.js';
import { jsKernels } from '../../src/kernels/index.js';
import { BertTokenizer, bertUncasedVocab } from '../../src/tokenizer/index.js';
import { TempDir } from '../finetune/fixtures.js';
import { quiet, randomModel, saved, SIZE, writeGlue } from './fixtures.js';

const dir = new TempDir('ft-summary-');
after(() => dir.remove());

const softmax = (x: number[]): number[] => {
  const m = Math.max(...x);
  const e = x.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

function configOf(model: string): { file: string; config: Record<string, { tasks: SavedTask[] }> } {
  const file = join(model, 'config.json');
  return { file, config: JSON.parse(readFileSync(file, 'utf8')) as Record<string, { tasks: SavedTask[] }> };
}

test('a saved mean-summary head classifies as the model computes it; the same weights read as first-token give other answers', () => {
  const tasks: SavedTask[] = [{ name: 'rte', kind: 'classification', style: 'electra', labels: ['entailment', 'not_entailment'], summaryType: 'mean' }];
  const model = randomModel(headSpecsOf(tasks), 5);
  const folder = join(dir.path, 'saved-mean');
  saveFinetunedModel(folder, model, { vocab: bertUncasedVocab(), doLowerCase: true, saved: saved(tasks) });
  const enc = BertTokenizer.fromVocab(bertUncasedVocab()).encode('The old man sat by the river.', 'Someone sat.');
  const [out] = model.run([{ task: 'rte', input: { inputIds: enc.ids, segmentIds: enc.segmentIds }, target: null }], { training: false, stepSeed: 0, backward: false }).outputs;
  const expected = softmax((out as { logits: number[] }).logits);
  const mean = FinetunedModel.load(folder, { kernels: jsKernels }).classify('The old man sat by the river.', 'Someone sat.');
  assert.ok(Math.abs(mean.probabilities['entailment']! - expected[0]!) < 1e-5, `${mean.probabilities['entailment']} vs ${expected[0]}`);

  const { file, config } = configOf(folder);
  delete config[FINETUNING_CONFIG_KEY]!.tasks[0]!.summaryType;
  writeFileSync(file, JSON.stringify(config));
  const first = FinetunedModel.load(folder, { kernels: jsKernels }).classify('The old man sat by the river.', 'Someone sat.');
  assert.ok(Math.abs(first.probabilities['entailment']! - mean.probabilities['entailment']!) > 1e-4, 'the summary the folder names is the one applied');

  // A folder claiming a mean-summary HF head (ElectraForSequenceClassification has none) is refused.
  config[FINETUNING_CONFIG_KEY]!.tasks[0] = { ...tasks[0]!, style: 'hf' };
  writeFileSync(file, JSON.stringify(config));
  assert.throws(() => FinetunedModel.load(folder, { kernels: jsKernels }), /task rte has summaryType "mean"; only 'mean' on a classification or regression head of style 'electra'/);
});

writeGlue(dir);
const base = { ...SIZE, data_dir: dir.path, task_names: ['rte'], random_init: true, num_train_epochs: 1, train_batch_size: 4, max_seq_length: 32, summary_type: 'mean' };

test('fine-tuning with summary_type mean records it in the folder; with head_style hf it is refused before any work', () => {
  const { hparams } = resolveHparams({ ...base, model_name: 'mean' });
  const [model] = runFinetuning({ hparams, log: () => {}, progressStream: quiet }).modelDirs;
  assert.equal(configOf(model!).config[FINETUNING_CONFIG_KEY]!.tasks[0]!.summaryType, 'mean');

  const { hparams: hf } = resolveHparams({ ...base, model_name: 'mean-hf', head_style: 'hf' });
  assert.throws(() => runFinetuning({ hparams: hf, log: () => {}, progressStream: quiet }),
    (err) => err instanceof UsageError && /rte: summary_type 'mean' needs head_style 'electra'/.test(err.message));
  assert.ok(!existsSync(join(dir.path, 'models', 'mean-hf')), 'nothing written');
  assert.throws(() => resolveHparams({ ...base, summary_type: 'cls' }), /summary_type/);
});
