// Users' own data: CSV with RFC 4180 quoting, TSV, headers detected or declared, columns by name,
// label sets from train checked on dev; every bad input an error naming file and line.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { BertTokenizer, bertUncasedVocab } from '../../src/tokenizer/index.js';
import { resolveHparams } from '../../src/finetune/hparams.js';
import { getTask, SentenceTask, TaggingTask, type TaskContext } from '../../src/finetune/tasks.js';
import { readTable } from '../../src/finetune/data/table.js';
import { featurizeTagging, featurizeTaggingWindows } from '../../src/finetune/tagging/features.js';
import { TempDir } from './fixtures.js';

const tokenizer = BertTokenizer.fromVocab(bertUncasedVocab());
const dir = new TempDir();
after(() => dir.remove());

/** RFC 4180, written from the specification: quote a field holding the delimiter, a quote or a line break; double its quotes. */
function csvEncode(rows: string[][]): string {
  const field = (f: string): string => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f);
  return rows.map((r) => r.map(field).join(',')).join('\r\n') + '\r\n';
}

function context(hparams: Record<string, unknown>, warnings: string[] = []): TaskContext {
  return { hparams: resolveHparams({ data_dir: dir.path, ...hparams }).hparams, tokenizer, warn: (m) => warnings.push(m) };
}

test('CSV: quoted fields with commas, quotes and line breaks come back whole, each with its first line', () => {
  const rows = [
    ['text', 'label'],
    ['plain', 'pos'],
    ['a, comma', 'neg'],
    ['he said "hi"', 'pos'],
    ['two\nlines', 'neg'],
    ['', 'pos'],
  ];
  const file = dir.write('quoted.csv', '\ufeff' + csvEncode(rows));
  const read = readTable(file, { format: null, delimiter: null });
  assert.deepEqual(read.map((r) => r.fields), rows);
  assert.deepEqual(read.map((r) => r.line), [1, 2, 3, 4, 5, 7]);
  // TSV keeps quotes as text (no quoting, as the GLUE files)
  const tsv = dir.write('q.tsv', '"a\tb\n\nc"d\te\n');
  assert.deepEqual(readTable(tsv, { format: null, delimiter: null }).map((r) => [r.line, r.fields]), [[1, ['"a', 'b']], [3, ['c"d', 'e']]]);
  const bad = dir.write('bad.csv', 'text,label\nok,pos\n"unterminated,neg\nmore,pos\n');
  assert.throws(() => readTable(bad, { format: null, delimiter: null }), /bad\.csv:3: .*Quote Not Closed.*expected CSV/);
  const stray = dir.write('stray.csv', 'text,label\n"quoted" text,pos\n');
  assert.throws(() => readTable(stray, { format: null, delimiter: null }), /stray\.csv:2: Invalid Closing Quote/);
  assert.throws(() => readTable(dir.write('x.dat', 'a'), { format: null, delimiter: null }), /x\.dat: cannot tell the format from the extension '\.dat'; set 'format'/);
});

test('classification from CSV: header detected, columns by name, labels from train checked on dev', () => {
  const train = [['id', 'review', 'sentiment'], ['1', 'great, really great', 'pos'], ['2', 'awful "film"', 'neg'], ['3', 'fine\nI guess', 'pos']];
  dir.write('finetuning_data/reviews/train.csv', csvEncode(train));
  dir.write('finetuning_data/reviews/dev.csv', csvEncode([['id', 'review', 'sentiment'], ['4', 'ok', 'neg'], ['5', 'meh', 'neutral']]));
  const byName = { type: 'classification', text_a_column: 'review', label_column: 'sentiment' };
  const task = getTask('reviews', context({ task_names: ['reviews'], custom_tasks: { reviews: byName } })) as SentenceTask;
  assert.deepEqual(task.labels, { type: 'classification', labels: ['neg', 'pos'] }, 'the header is not a label');
  assert.deepEqual(task.getExamples('train').map((e) => [e.eid, e.textA, e.label]),
    [[0, 'great, really great', 'pos'], [1, 'awful "film"', 'neg'], [2, 'fine\nI guess', 'pos']]);
  assert.throws(() => task.getExamples('dev'), /reviews\/dev\.csv:3: label "neutral" is not one of "neg", "pos"/);

  // By index, header detected from the label column; declared header: false keeps the first row.
  const byIndex = getTask('reviews', context({ task_names: ['reviews'], custom_tasks: { reviews: { type: 'classification', text_a_column: 1, label_column: -1 } } })) as SentenceTask;
  assert.equal(byIndex.getExamples('train').length, 3);
  assert.throws(() => getTask('reviews', context({ custom_tasks: { reviews: { ...byName, label_column: 'label' } } })),
    /reviews\/train\.csv:1: no column named "label" for 'label_column'; the header has "id", "review", "sentiment"/);
  dir.write('finetuning_data/nohead/train.csv', csvEncode([['good', 'pos'], ['bad', 'neg'], ['nice', 'pos']]));
  const noHeader = getTask('nohead', context({ custom_tasks: { nohead: { type: 'classification' } } })) as SentenceTask;
  assert.deepEqual(noHeader.getExamples('train').map((e) => e.textA), ['good', 'bad', 'nice'], 'a first row with a real label is data');
  const declared = getTask('nohead', context({ custom_tasks: { nohead: { type: 'classification', header: true } } })) as SentenceTask;
  assert.deepEqual(declared.getExamples('train').map((e) => e.textA), ['bad', 'nice']);

  // A short row is an error naming its line and the columns asked for, not a skipped row.
  dir.write('finetuning_data/short/train.csv', 'text,label\ngood,pos\nbad\nnice,neg\n');
  const short = getTask('short', context({ custom_tasks: { short: { type: 'classification', labels: ['neg', 'pos'] } } })) as SentenceTask;
  assert.throws(() => short.getExamples('train'), /short\/train\.csv:3: expected at least 2 columns \(text_a_column 0, label_column 1\), found 1/);
});

test('regression from TSV: a header is a row whose target is no number', () => {
  dir.write('finetuning_data/scores/train.tsv', 'sentence\tscore\nnice one\t4.5\nbad one\t0.5\n');
  const reg = getTask('scores', context({ custom_tasks: { scores: { type: 'regression', min_value: 0, max_value: 5 } } })) as SentenceTask;
  assert.deepEqual(reg.getExamples('train').map((e) => [e.textA, e.label]), [['nice one', 4.5], ['bad one', 0.5]]);
  dir.write('finetuning_data/scores2/train.tsv', 'nice one\t4.5\nbad one\tmuch\n');
  const bad = getTask('scores2', context({ custom_tasks: { scores2: { type: 'regression', min_value: 0, max_value: 5 } } })) as SentenceTask;
  assert.throws(() => bad.getExamples('train'), /scores2\/train\.tsv:2: expected a number as the scores2 target, found "much"/);
  assert.throws(() => resolveHparams({ custom_tasks: { s: { type: 'regression', header: true, skip_first_line: true } } }), /give 'custom_tasks\.s\.header' or its older name 'custom_tasks\.s\.skip_first_line', not both/);
});

test('tagging from word/TAG lines (detected in .txt) and CoNLL columns (.conll, column choice)', () => {
  dir.write('finetuning_data/ptb/train.txt', 'The/DT cat/NN sat/VBD ./.\n\n1/2/CD of/IN it/PRP\n');
  dir.write('finetuning_data/ptb/dev.txt', 'A/DT dog/NN ran/VBZ\n');
  const ptb = getTask('ptb', context({ custom_tasks: { ptb: { type: 'tagging' } } })) as TaggingTask;
  assert.deepEqual(ptb.labels, ['.', 'CD', 'DT', 'IN', 'NN', 'PRP', 'VBD'], 'labels from the training file');
  const train = ptb.getExamples('train');
  assert.deepEqual(train.map((e) => e.words), [['The', 'cat', 'sat', '.'], ['1/2', 'of', 'it']], 'one sentence a line; the last separator splits');
  assert.deepEqual(train[1]!.labels.map((id) => ptb.labels[id]), ['CD', 'IN', 'PRP']);
  assert.throws(() => ptb.getExamples('dev'), /ptb\/dev\.txt:1 \(word 3\): tag 'VBZ' is not in the label list \(taken from the training file\)/);

  // word/TAG declared: a token without a tag names its line and position
  const bad = dir.write('finetuning_data/badwt/train.txt', 'The/DT cat/NN\nA dog/NN\n');
  const badTask = getTask('badwt', context({ custom_tasks: { badwt: { type: 'tagging', format: 'word_tag' } } })) as TaggingTask;
  assert.throws(() => badTask.labels, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:2: token 1 "A" is not word/TAG`));

  // CoNLL from .conll with the tag in column 1 of 3; a blank line between sentences
  dir.write('finetuning_data/ner/train.conll', '-DOCSTART- -X- O\n\nEU NNP B-ORG\nrejects VBZ O\n\nPeter NNP B-PER\n');
  const ner = getTask('ner', context({ custom_tasks: { ner: { type: 'tagging', tag_column: 1 } } })) as TaggingTask;
  assert.deepEqual(ner.getExamples('train').map((e) => [e.words, e.labels.map((id) => ner.labels[id])]),
    [[['EU', 'rejects'], ['NNP', 'VBZ']], [['Peter'], ['NNP']]]);
  const underscore = getTask('ptb', context({ custom_tasks: { ptb: { type: 'tagging', format: 'word_tag', tag_separator: '_' } } })) as TaggingTask;
  assert.throws(() => underscore.labels, /ptb\/train\.txt:1: token 1 "The\/DT" is not word_TAG/);
});

test('tagging windows: every word tagged once, in order; each window fits; an overlong word keeps its first tokens', () => {
  const words = ['the', 'supercalifragilisticexpialidocious', 'cat', 'sat', 'on', 'the', 'mat', 'today'];
  const example = { taskName: 't', eid: 3, words, labels: words.map((_, i) => i) };
  const max = 6;
  const windows = featurizeTaggingWindows(tokenizer, example, max);
  assert.deepEqual(windows.flatMap((w) => w.labels), example.labels, 'every word once');
  for (const w of windows) {
    assert.ok(w.inputIds.length <= max);
    assert.equal(w.inputIds[0], tokenizer.clsId);
    assert.equal(w.inputIds[w.inputIds.length - 1], tokenizer.sepId);
    assert.deepEqual(w.labels, example.labels.slice(w.firstWord, w.firstWord! + w.labels.length));
    // each tagged position holds the word's first WordPiece
    w.labeledPositions.forEach((p, j) => assert.equal(w.inputIds[p], tokenizer.pieces(words[w.firstWord! + j]!).ids[0]));
  }
  const long = windows.find((w) => w.firstWord === 1)!;
  assert.equal(long.inputIds.length, max, 'the long word fills a window of its own');
  // the reference's rule at the same length keeps only what fits with one slot per word in reserve
  assert.ok(featurizeTagging(tokenizer, example, max).labels.length < words.length);
});

test('JSON lines: columns are keys; numbers and booleans as labels; a missing key names its line', () => {
  const lines = [{ premise: 'A cat sat.', hypothesis: 'An animal sat.', label: 1, id: 7 }, { premise: 'x', hypothesis: 'y', label: 0 }];
  dir.write('finetuning_data/nli/train.jsonl', lines.map((l) => JSON.stringify(l)).join('\n') + '\n\n');
  dir.write('finetuning_data/nli/dev.jsonl', JSON.stringify({ premise: 'p', hypothesis: 'h', label: 1 }) + '\n' + JSON.stringify({ premise: 'p', label: 0 }) + '\n');
  dir.write('finetuning_data/nli/test.jsonl', JSON.stringify({ premise: 'p', hypothesis: 'h' }) + '\n');
  const spec = { type: 'classification', text_a_column: 'premise', text_b_column: 'hypothesis', label_column: 'label' };
  const nli = getTask('nli', context({ custom_tasks: { nli: spec } })) as SentenceTask;
  assert.deepEqual(nli.labels, { type: 'classification', labels: ['0', '1'] });
  assert.deepEqual(nli.getExamples('train').map((e) => [e.textA, e.textB, e.label]), [['A cat sat.', 'An animal sat.', '1'], ['x', 'y', '0']]);
  assert.throws(() => nli.getExamples('dev'), /nli\/dev\.jsonl:2: no key "hypothesis"; the object has "premise", "label"/);
  assert.deepEqual(nli.getExamples('test').map((e) => [e.textA, e.label]), [['p', '0']], 'test rows need no label');
  assert.throws(() => getTask('nli', context({ custom_tasks: { nli: { ...spec, text_a_column: 0 } } })), /nli\/train\.jsonl: JSON lines columns are keys/);
  dir.write('finetuning_data/nli2/train.jsonl', '{"premise": "a", "hypothesis": "b", "label": null}\n');
  const nli2 = getTask('nli2', context({ custom_tasks: { nli2: { ...spec, labels: ['0', '1'] } } })) as SentenceTask;
  assert.throws(() => nli2.getExamples('train'), /nli2\/train\.jsonl:1: key "label": expected a string, number or boolean, found null/);
  dir.write('finetuning_data/nli3/train.jsonl', '{"premise": "a",\n');
  const nli3 = getTask('nli3', context({ custom_tasks: { nli3: { ...spec, labels: ['0', '1'] } } })) as SentenceTask;
  assert.throws(() => nli3.getExamples('train'), /nli3\/train\.jsonl:1: invalid JSON/);
});
