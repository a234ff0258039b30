// Each task's own settings in its fine-tuned folder: its max_seq_length (task_hparams), enforced by
// inference for that task alone, and the reader settings its files were read with, the default of
// `electra predict --input`; folders written without them load as before.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/errors.js';
import { resolveHparams } from '../../src/finetune/hparams.js';
import { runFinetuning } from '../../src/finetune/runner.js';
import { FinetunedModel, loadFinetuned, taggingInputs } from '../../src/finetune/inference.js';
import { featurizeQa } from '../../src/finetune/qa/features.js';
import { readTaskFile } from '../../src/finetune/task-file.js';
import { getTask } from '../../src/finetune/tasks.js';
import { FINETUNING_CONFIG_KEY, headSpecsOf, saveFinetunedModel, type SavedTask } from '../../src/finetune/model/checkpoint.js';
import { jsKernels } from '../../src/kernels/index.js';
import { BertTokenizer, bertUncasedVocab } from '../../src/tokenizer/index.js';
import { TempDir } from '../finetune/fixtures.js';
import { cliPath } from '../pretrain/fixtures.js';
import { quiet, randomModel, saved, sentence, SIZE, TASKS, WORDS, writeGlue } from './fixtures.js';

const dir = new TempDir('ft-task-settings-');
after(() => dir.remove());

function electra(args: string[], input = ''): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [cliPath, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const words = (n: number, from = 0): string => Array.from({ length: n }, (_, i) => WORDS[(from + i) % WORDS.length]).join(' ');

/** Rewrites a folder's config.json as one written before tasks kept their own settings. */
function asOlderFolder(model: string): void {
  const file = join(model, 'config.json');
  const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { tasks: Record<string, unknown>[] }>;
  for (const task of config[FINETUNING_CONFIG_KEY]!.tasks) {
    delete task['maxSeqLength'];
    delete task['reader'];
  }
  writeFileSync(file, JSON.stringify(config, null, 2));
}

test('inference takes each task\'s own max_seq_length: sentence limits, tagging pieces and QA windows; older folders the folder\'s', () => {
  const tasks: SavedTask[] = TASKS.map((t) => ({ ...t, maxSeqLength: { rte: 32, sts: 10, pos: 8, squad: 24 }[t.name]! }));
  const model = join(dir.path, 'saved');
  saveFinetunedModel(model, randomModel(headSpecsOf(tasks), 3), { vocab: bertUncasedVocab(), doLowerCase: true, saved: saved(tasks) });
  const api = FinetunedModel.load(model, { kernels: jsKernels });
  assert.deepEqual(api.tasks.map((t) => api.maxSeqLength(t)), [32, 10, 8, 24]);
  const twelve = words(12);
  api.prepareClassification(twelve, null, { task: 'rte' });
  assert.throws(() => api.prepareRegression(twelve, null, { task: 'sts' }),
    (err) => err instanceof InputError && /the input has 14 tokens; the model takes at most 10 for task sts \(its max_seq_length\)/.test(err.message));
  assert.equal(api.score(twelve, null, { task: 'sts' }), api.score(words(8), null, { task: 'sts' }), 'cut to sts\'s 10 tokens');

  const tokenizer = BertTokenizer.fromVocab(bertUncasedVocab(), { lowerCase: true });
  const tagged = words(14).split(' ');
  const pieces = api.prepareTagging(tagged, { task: 'pos' }).items;
  assert.deepEqual(pieces.map((p) => p.input), taggingInputs(tokenizer, tagged, 8));
  assert.notEqual(pieces.length, taggingInputs(tokenizer, tagged, 32).length);
  const passage = words(40);
  const windows = api.prepareAnswer('who sat?', passage, { task: 'squad' }).items;
  const example = { taskName: 'squad', eid: 0, id: '0', question: 'who sat?', context: passage, answers: [], isImpossible: false, answer: null };
  assert.deepEqual(windows.map((w) => w.input), featurizeQa(tokenizer, example, false, { maxSeqLength: 24, maxQueryLength: 12, docStride: 8 }));

  asOlderFolder(model);
  const older = FinetunedModel.load(model, { kernels: jsKernels });
  assert.deepEqual(older.tasks.map((t) => older.maxSeqLength(t)), [32, 32, 32, 32]);
  older.prepareRegression(twelve, null, { task: 'sts' });

  const bad = (task: Record<string, unknown>, pattern: RegExp): void => {
    const folder = join(dir.path, 'bad');
    saveFinetunedModel(folder, randomModel(headSpecsOf(tasks), 3), {
      vocab: bertUncasedVocab(), doLowerCase: true, saved: saved([{ ...TASKS[0]!, ...task } as SavedTask, ...TASKS.slice(1)]),
    });
    assert.throws(() => FinetunedModel.load(folder, { kernels: jsKernels }), pattern);
  };
  bad({ maxSeqLength: 64 }, /task rte has maxSeqLength 64; expected an integer from 3 to max_seq_length 32/);
  bad({ reader: { text_a_column: 1.5 } }, /task rte's reader: .*text_a_column/);
});

// rte (a GLUE TSV, max_seq_length 32) and reviews (a ';'-separated CSV read by column names, its own
// max_seq_length 12): the columns would be misread by the reader's defaults.
const reviews = (from: number, n: number): string => ['id;sentiment;review', ...Array.from({ length: n }, (_, i) => {
  const k = from + i;
  return `${k};${k % 2 ? 'neg' : 'pos'};${sentence(k, 3 + (k % 4))}`;
})].join('\n') + '\n';
writeGlue(dir);
const devCsv = dir.write('finetuning_data/reviews/dev.csv', reviews(100, 5));
dir.write('finetuning_data/reviews/train.csv', reviews(0, 12));
const REVIEWS = { type: 'classification', delimiter: ';', text_a_column: 'review', label_column: 'sentiment' };
const { hparams } = resolveHparams({
  ...SIZE, data_dir: dir.path, model_name: 'own', task_names: ['rte', 'reviews'], random_init: true, num_train_epochs: 1,
  train_batch_size: 4, max_seq_length: 32, custom_tasks: { reviews: REVIEWS }, task_hparams: { reviews: { max_seq_length: 12 } },
});
let trained: string | undefined;
function trainedModel(): string {
  trained ??= runFinetuning({ hparams, log: () => {}, progressStream: quiet }).modelDirs[0]!;
  return trained;
}

test('a multi-task folder keeps each task\'s max_seq_length and reader settings; predict enforces each task\'s limit', () => {
  const model = trainedModel();
  const config = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')) as Record<string, { max_seq_length: number; tasks: SavedTask[] }>;
  const ft = config[FINETUNING_CONFIG_KEY]!;
  assert.equal(ft.max_seq_length, 32);
  assert.deepEqual(ft.tasks.map((t) => [t.name, t.maxSeqLength]), [['rte', 32], ['reviews', 12]]);
  assert.equal(ft.tasks[0]!.reader, undefined, 'a GLUE task has its fixed layout');
  assert.deepEqual(ft.tasks[1]!.reader, {
    format: null, delimiter: ';', header: true, text_a_column: 'review', text_b_column: null, label_column: 'sentiment',
    double_unordered: false, labels: ['neg', 'pos'], metric: 'accuracy', positive_label: null,
  });

  const long = words(14); // 16 tokens with [CLS] and [SEP]
  assert.equal(electra(['predict', '--model', model, '--task', 'rte'], long).code, 0);
  const refused = electra(['predict', '--model', model, '--task', 'reviews'], long);
  assert.equal(refused.code, 2);
  assert.match(refused.err, /stdin line 1: the input has 16 tokens; the model takes at most 12 for task reviews \(its max_seq_length\)/);
  const api = loadFinetuned(model);
  assert.deepEqual(api.classify(long, null, { task: 'reviews' }), api.classify(words(10), null, { task: 'reviews' }), 'cut to 12 tokens');
  assert.notDeepEqual(api.classify(long, null, { task: 'rte' }), api.classify(words(10), null, { task: 'rte' }), 'rte reads all 16');
});

test('predict --input on a spec-configured task\'s dev file needs no --reader; --reader overrides key by key; older folders read the defaults', () => {
  const model = trainedModel();
  const texts = reviews(100, 5).trim().split('\n').slice(1).map((l) => l.split(';')[2]!);
  const fromLines = electra(['predict', '--model', model, '--task', 'reviews'], texts.map((text) => JSON.stringify({ text })).join('\n') + '\n');
  assert.equal(fromLines.code, 0, fromLines.err);
  const expected = fromLines.out.trim().split('\n').map((l) => JSON.parse(l) as unknown);
  assert.equal(expected.length, 5);
  const fromFile = electra(['predict', '--model', model, '--task', 'reviews', '--input', devCsv]);
  assert.equal(fromFile.code, 0, fromFile.err);
  assert.deepEqual(fromFile.out.trim().split('\n').map((l) => JSON.parse(l) as unknown), expected);

  // The same rows tab-separated: only the delimiter given, the saved columns kept.
  const tabbed = dir.write('tabbed.tsv', readFileSync(devCsv, 'utf8').replaceAll(';', '\t'));
  const overridden = electra(['predict', '--model', model, '--task', 'reviews', '--input', tabbed, '--reader', '{"format": "tsv", "delimiter": null}']);
  assert.equal(overridden.code, 0, overridden.err);
  assert.deepEqual(overridden.out.trim().split('\n').map((l) => JSON.parse(l) as unknown), expected);

  // Without saved settings the reader's defaults: CSV by ',' with the text in column 0, the whole row here.
  const task = loadFinetuned(model).selectTask('reviews');
  const { reader: _reader, ...older } = task;
  assert.deepEqual(readTaskFile(devCsv, older).map((r) => r.record), [{ text: 'id;sentiment;review' }, ...reviews(100, 5).trim().split('\n').slice(1).map((text) => ({ text }))]);
  assert.deepEqual(readTaskFile(devCsv, task).map((r) => r.record), texts.map((text) => ({ text })));
});

test('tagging tasks keep their spec\'s reader settings (columns, format), which read later files the same way', () => {
  const hp = resolveHparams({ task_names: ['tags'], data_dir: dir.path, custom_tasks: { tags: { type: 'tagging', format: 'conll', word_column: 1, tag_column: 2, token_level: false } } }).hparams;
  dir.write('finetuning_data/tags/train.txt', '1 The B-NP\n2 dog I-NP\n3 ran B-VP\n');
  const tokenizer = BertTokenizer.fromVocab(bertUncasedVocab(), { lowerCase: true });
  const saved = getTask('tags', { hparams: hp, tokenizer }).savedTask('electra');
  assert.deepEqual(saved.reader, { format: 'conll', word_column: 1, tag_column: 2, tag_separator: '/', token_level: false, labels: null });
  const file = dir.write('tags.conll', '1 Old NN\n2 city NN\n\n1 A NN\n');
  assert.deepEqual(readTaskFile(file, saved).map((r) => r.record), [{ words: ['Old', 'city'] }, { words: ['A'] }]);
  assert.deepEqual(readTaskFile(file, saved, { word_column: 2 }).map((r) => r.record), [{ words: ['NN', 'NN'] }, { words: ['NN'] }]);
});
