// `electra predict --input FILE`: a file in the task's training format (CSV/TSV/JSON-lines tables,
// word/TAG, CoNLL, SQuAD JSON, multiple-choice lines) gives, line for line, the answers of the same
// examples written as JSON lines on stdin; a bad file is the reader's error (file:line) and writes
// nothing.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { headSpecsOf, saveFinetunedModel, type SavedTask } from '../../src/finetune/model/checkpoint.js';
import { bertUncasedVocab } from '../../src/tokenizer/index.js';
import { TempDir, tsv } from '../finetune/fixtures.js';
import { cliPath } from '../pretrain/fixtures.js';
import { writeTinyModels } from '../pretrain/tiny-models.js';
import { randomModel, saved, TASKS } from './fixtures.js';

const MC: SavedTask = { name: 'swag', kind: 'multiple_choice', style: 'hf', labels: null, numChoices: 3 };
const dir = new TempDir('ft-predict-file-');
after(() => dir.remove());
const model = dir.write('model/.keep', '').replace(/\/\.keep$/, '');
saveFinetunedModel(model, randomModel(headSpecsOf([...TASKS, MC]), 5), { vocab: bertUncasedVocab(), doLowerCase: true, saved: saved([...TASKS, MC]) });

function electra(args: string[], input = ''): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [cliPath, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** predict --input FILE and predict on the records as JSON lines give the same lines. */
function sameAsJsonLines(task: string, file: string, records: unknown[], reader?: unknown): void {
  const fromFile = electra(['predict', '--model', model, '--task', task, '--input', file, '--batch-size', '3',
    ...(reader === undefined ? [] : ['--reader', JSON.stringify(reader)])]);
  assert.equal(fromFile.code, 0, fromFile.err);
  const fromLines = electra(['predict', '--model', model, '--task', task], records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  assert.equal(fromLines.code, 0, fromLines.err);
  const a = fromFile.out.trim().split('\n');
  assert.equal(a.length, records.length, `${task}: one line per example`);
  assert.deepEqual(a.map((l) => JSON.parse(l) as unknown), fromLines.out.trim().split('\n').map((l) => JSON.parse(l) as unknown), task);
}

test('predict --input: tables (TSV by header names, CSV with quoting and no header, JSON lines) give the JSON-lines answers', () => {
  const pairs = [['the farmer feeds the horse', 'a man feeds an animal'], ['boats carry grain', 'grain, wool and fish'], ['old city', 'the river']];
  const rteTsv = dir.write('rte/dev.tsv', tsv([['index', 'sentence1', 'sentence2', 'label'], ...pairs.map(([a, b], i) => [String(i), a!, b!, 'entailment'])]));
  sameAsJsonLines('rte', rteTsv, pairs.map(([a, b]) => ({ text: a, text_pair: b })), { text_a_column: 'sentence1', text_b_column: 'sentence2' });
  // By index, a test file without labels: no header is detected from label cells that are not there.
  const unlabelled = dir.write('rte/test.tsv', tsv(pairs.map(([a, b], i) => [String(i), a!, b!])));
  sameAsJsonLines('rte', unlabelled, pairs.map(([a, b]) => ({ text: a, text_pair: b })), { text_a_column: 1, text_b_column: 2 });

  const texts = ['grain, wool and "fish"', 'the old man\nsat', 'a dog ran'];
  const stsCsv = dir.write('sts/dev.csv', '"grain, wool and ""fish""",3.5\n"the old man\nsat",1\na dog ran,0\n');
  sameAsJsonLines('sts', stsCsv, texts.map((text) => ({ text })));

  const jsonl = dir.write('rte/dev.jsonl', pairs.map(([a, b]) => JSON.stringify({ premise: a, hypothesis: b, label: 'entailment' })).join('\n') + '\n');
  sameAsJsonLines('rte', jsonl, pairs.map(([a, b]) => ({ text: a, text_pair: b })), { text_a_column: 'premise', text_b_column: 'hypothesis' });
});

test('predict --input: word/TAG and CoNLL tagging files, SQuAD JSON and multiple-choice lines give the JSON-lines answers', () => {
  const sentences = [['The', 'old', 'man', 'sat'], ['Boats', 'carry', 'grain', ',', 'wool']];
  const wordTag = dir.write('pos/dev.txt', sentences.map((s) => s.map((w) => `${w}/nn`).join(' ')).join('\n') + '\n');
  sameAsJsonLines('pos', wordTag, sentences.map((words) => ({ words })));
  const conll = dir.write('pos/dev.conll', sentences.map((s) => s.map((w) => `${w} NN nn\n`).join('')).join('\n'));
  sameAsJsonLines('pos', conll, sentences.map((words) => ({ words })));

  const context = 'The river flows through the old city of Avalon. It was named by Marta in 1810. Boats carry grain and wool to the sea every spring.';
  const questions = ['Who named the river?', 'What do boats carry?'];
  const squad = dir.write('squad/test.json', JSON.stringify({
    version: 'v2.0', data: [{ title: 'Rivers', paragraphs: [{ context, qas: questions.map((question, i) => ({ id: `q${i}`, question })) }] }],
  }));
  sameAsJsonLines('squad', squad, questions.map((question) => ({ question, context })));

  const choices = [
    { context: 'The farmer feeds the horse.', question: 'The horse', choices: ['eats hay', 'flies away', 'reads a book'], label: 0 },
    { context: 'Boats carry grain to the sea.', question: '', choices: ['in spring', 'on the river', 'never'] },
  ];
  const mc = dir.write('swag/test.jsonl', choices.map((c) => JSON.stringify(c)).join('\n') + '\n');
  sameAsJsonLines('swag', mc, choices.map(({ context: c, question, choices: ch }) => ({ context: c, question, choices: ch })));
});

test('predict --input: a bad file is the reader\'s error naming file and line, before any output; --input needs a fine-tuned task', () => {
  const fails = (args: string[], pattern: RegExp): void => {
    const r = electra(['predict', '--model', model, ...args]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, pattern);
    assert.equal(r.out, '', 'nothing written');
  };
  const short = dir.write('bad/short.tsv', tsv([['a', 'the farmer', 'feeds'], ['b', 'no second sentence']]));
  fails(['--task', 'rte', '--input', short, '--reader', '{"text_a_column": 1, "text_b_column": 2}'], /short\.tsv:2: expected at least 3 columns/);
  const quote = dir.write('bad/quote.csv', 'fine,1\n"never closed,2\n');
  fails(['--task', 'sts', '--input', quote], /quote\.csv:2: .*(expected CSV with RFC 4180 quoting)/);
  const noTag = dir.write('bad/tags.txt', 'The/at old/jj\nman sat/vb\n');
  fails(['--task', 'pos', '--input', noTag, '--reader', '{"format": "word_tag"}'], /tags\.txt:2: token 1 "man" is not word\/TAG/);
  const long = dir.write('bad/long.tsv', tsv([['a dog'], [new Array(40).fill('dog').join(' ')]]));
  fails(['--task', 'rte', '--input', long], /long\.tsv:2: the input has 42 tokens; the model takes at most 32/);
  fails(['--task', 'rte', '--input', dir.path + '/bad/missing.tsv'], /missing\.tsv/);
  fails(['--task', 'squad', '--input', short, '--reader', '{"header": true}'], /reader settings are for table and tagging tasks/);
  fails(['--task', 'rte', '--input', short, '--reader', '{"text_z_column": 1}'], /text_z_column/);

  const tiny = writeTinyModels('predict-file');
  try {
    const r = electra(['predict', '--model', tiny.discriminatorDir, '--input', short]);
    assert.equal(r.code, 2);
    assert.match(r.err, /--input takes a fine-tuned model's task files/);
  } finally {
    tiny.cleanup();
  }
});
