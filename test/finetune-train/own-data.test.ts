// Own data through a whole run: the summary printed before training (examples per split, labels,
// truncation, dropped words), errors in dev data before any training, and long sentences in windows.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolveHparams } from '../../src/finetune/hparams.js';
import { runFinetuning } from '../../src/finetune/runner.js';
import { TempDir } from '../finetune/fixtures.js';
import { quiet, SIZE } from './fixtures.js';

const dir = new TempDir();
after(() => dir.remove());

const words = ['the', 'cat', 'dog', 'sat', 'ran', 'on', 'a', 'mat'];
const tags: Record<string, string> = { the: 'DT', a: 'DT', cat: 'NN', dog: 'NN', mat: 'NN', sat: 'VBD', ran: 'VBD', on: 'IN' };
/** n word/TAG tokens cycling through the words. */
const wordTagLine = (n: number, start = 0): string => Array.from({ length: n }, (_, i) => words[(start + i) % words.length]!).map((w) => `${w}/${tags[w]}`).join(' ');

test('the summary before training counts examples, labels, truncation and dropped words; windows tag every word', () => {
  const trainLines = [wordTagLine(4), wordTagLine(30, 1), wordTagLine(5, 2)];
  dir.write('finetuning_data/pos/train.txt', trainLines.join('\n') + '\n');
  const counts = new Map<string, number>();
  for (const t of trainLines.join(' ').split(' ').map((tok) => tok.split('/')[1]!)) counts.set(t, (counts.get(t) ?? 0) + 1);
  const distribution = [...counts].sort().map(([t, n]) => `${t} ${n} \\(${(100 * n / 39).toFixed(1)}%\\)`).join(', ');
  dir.write('finetuning_data/pos/dev.txt', [wordTagLine(30, 3), wordTagLine(3)].join('\n') + '\n');
  const base = {
    ...SIZE, data_dir: dir.path, model_name: 'scratch', random_init: true, task_names: ['pos'], custom_tasks: { pos: { type: 'tagging' } },
    max_seq_length: 16, num_train_epochs: 1, train_batch_size: 4,
  };
  const lines: string[] = [];
  const cut = runFinetuning({ hparams: resolveHparams(base).hparams, log: (l) => lines.push(l), progressStream: quiet });
  // The reference's rule (a slot per word of the sentence in reserve: words + 2 + tokens so far + 1 <= 16) keeps none
  // of a 30-word sentence at length 16: 30 words dropped in train and in dev.
  const train = lines.find((l) => l.startsWith('pos train:'));
  assert.match(train ?? '', new RegExp(`^pos train: 3 examples, 3 features; words per label: ${distribution}; 1 truncated to 16 tokens; 30 words past max_seq_length dropped`));
  assert.match(lines.find((l) => l.startsWith('pos dev:')) ?? '', /^pos dev: 2 examples, 2 features; .*1 truncated to 16 tokens; 30 words past/);
  assert.ok(lines.indexOf(train!) < lines.findIndex((l) => l.startsWith('training for')), 'summary before training');
  assert.equal(cut.trials[0]!.get('pos')!.length > 0, true);

  const windowed: string[] = [];
  const split = runFinetuning({
    hparams: resolveHparams({ ...base, model_name: 'windows', split_long_sentences: true }).hparams, log: (l) => windowed.push(l), progressStream: quiet,
  });
  // 30 one-token words in windows of 14: 3 features; nothing dropped; dev scored on all 33 words.
  assert.match(windowed.find((l) => l.startsWith('pos train:')) ?? '', /^pos train: 3 examples, 5 features; .*; 0 truncated to 16 tokens$/);
  const preds = split.trials[0]!;
  assert.ok(preds.get('pos'));
  const predictions = JSON.parse(readFileSync(split.paths.testPredictions('pos', 'dev', 1), 'utf8')) as Record<string, string[]>;
  assert.deepEqual(Object.values(predictions).map((p) => p.length), [30, 3], 'every dev word has a predicted tag');
});

test('an unseen label in dev stops the run before training, naming file, line and label', () => {
  dir.write('finetuning_data/rev/train.csv', 'text,label\n"good, very good",pos\nbad,neg\n"fine",pos\n');
  dir.write('finetuning_data/rev/dev.csv', 'text,label\nok,neg\nmeh,neutral\n');
  const hp = resolveHparams({
    ...SIZE, data_dir: dir.path, model_name: 'rev', random_init: true, task_names: ['rev'], custom_tasks: { rev: { type: 'classification' } },
    num_train_epochs: 1,
  }).hparams;
  const lines: string[] = [];
  assert.throws(() => runFinetuning({ hparams: hp, log: (l) => lines.push(l), progressStream: quiet }), /rev\/dev\.csv:3: label "neutral" is not one of "neg", "pos"/);
  assert.equal(lines.some((l) => l.startsWith('training for')), false);
  assert.equal(existsSync(`${dir.path}/models/rev/finetuning_models`), false, 'nothing written');
});
