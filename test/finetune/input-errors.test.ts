// Bad fine-tuning data gets an error (or warning) naming the file and line: bytes that are not
// UTF-8, chunk tags that are not BIO, SQuAD syntax errors and dev questions without answers, and
// a TSV whose header line is missing.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { glueLayout, readSentenceFile } from '../../src/finetune/classification/data.js';
import { readMrqa, readSquad } from '../../src/finetune/qa/data.js';
import { readConll } from '../../src/finetune/tagging/conll.js';
import { readTsv } from '../../src/finetune/data/text-file.js';
import { getTasks } from '../../src/finetune/tasks.js';
import { resolveHparams } from '../../src/finetune/hparams.js';
import { BertTokenizer, bertUncasedVocab } from '../../src/tokenizer/index.js';
import { TempDir, mrqaJsonl, squadV2, tsv } from './fixtures.js';

const dir = new TempDir();
after(() => dir.remove());
const nli = { type: 'classification', labels: ['entailment', 'not_entailment'] } as const;

test('bytes that are not UTF-8 stop the read, naming the file, line and byte (TSV, CoNLL, SQuAD)', () => {
  const rows = Buffer.concat([
    Buffer.from('index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n'),
    Buffer.from('1\tthe caf\xe9\tb\tentailment\n', 'latin1'),
  ]);
  const file = dir.write('rte/train.tsv', rows);
  assert.throws(() => readTsv(file), /rte\/train\.tsv:3: invalid UTF-8 at byte offset 58; expected UTF-8 text/);
  const conll = dir.write('chunk/train.txt', Buffer.from('a DT B-NP\n\ncaf\xe9 NN B-NP\n', 'latin1'));
  assert.throws(() => readConll(conll), /chunk\/train\.txt:3: invalid UTF-8/);
  const squad = dir.write('squad/dev.json', Buffer.from('{"data": [\n"\xff"]}', 'latin1'));
  assert.throws(() => readSquad(squad, { taskName: 'squad', split: 'dev' }), /squad\/dev\.json:2: invalid UTF-8 at byte offset 12/);
  // A byte-order mark is not an error.
  const bom = dir.write('rte/bom.tsv', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a\tb\n')]));
  assert.deepEqual(readTsv(bom)[0]!.fields, ['a', 'b']);
});

test('chunk tags that are not BIO name the file and the line of the tag', () => {
  dir.write('ftdata/finetuning_data/chunk/train.txt', 'a DT B-NP\nb NN I-NP\n\nc VB B-VP\nd NN b\n\n');
  const hparams = resolveHparams({ data_dir: `${dir.path}/ftdata`, task_names: ['chunk'] }).hparams;
  const [task] = getTasks({ hparams, tokenizer: BertTokenizer.fromVocab(bertUncasedVocab()), warn: () => {} });
  assert.throws(() => task!.getExamples('train'), /ftdata\/finetuning_data\/chunk\/train\.txt:5: chunk tag 'b' is neither 'O' nor PREFIX-TYPE/);
});

test('SQuAD and MRQA syntax errors give line and column; dev questions must have answers (test questions need not)', () => {
  const broken = dir.write('squad/broken.json', '{"version": "v2.0",\n "data": [\n  {"title": "x",}\n ]}\n');
  assert.throws(() => readSquad(broken, { taskName: 'squad', split: 'dev' }), /broken\.json: invalid JSON at line 3 column 17: expected a "quoted" property name, found "}" \(a trailing comma\?\)/);
  const jsonl = dir.write('newsqa/dev.jsonl', mrqaJsonl() + '{"context": "x", "qas": [}\n');
  assert.throws(() => readMrqa(jsonl, { taskName: 'newsqa', split: 'dev' }), /dev\.jsonl: invalid JSON at line 3 column 26: /);
  const data = JSON.parse(squadV2()) as { data: { paragraphs: { qas: Record<string, unknown>[] }[] }[] };
  delete data.data[0]!.paragraphs[0]!.qas[0]!['answers'];
  const noAnswers = dir.write('squad/noanswers.json', JSON.stringify(data));
  assert.throws(() => readSquad(noAnswers, { taskName: 'squad', split: 'dev', v2: true }), /noanswers\.json: data\[0\]\.paragraphs\[0\]\.qas\[0\]\.answers: expected an array, found nothing/);
  const test = readSquad(noAnswers, { taskName: 'squad', split: 'test', v2: true });
  assert.deepEqual(test.examples[0]!.answers, []);
});

test('a TSV whose first line (skipped as the header) holds a valid label gets a warning naming it', () => {
  const rows = [['0', 'a b', 'c d', 'entailment'], ['1', 'e f', 'g h', 'not_entailment']];
  const headerless = dir.write('rte/headerless.tsv', tsv(rows));
  const read = readSentenceFile(headerless, { taskName: 'rte', layout: glueLayout('rte', 'train'), labels: nli });
  assert.equal(read.examples.length, 1, 'the reference skips the first line all the same');
  assert.equal(read.skipped.length, 1);
  assert.match(read.skipped[0]!.message, /headerless\.tsv:1: skipped as the header line, but its label column holds "entailment", a valid rte label: does the file lack its header\?/);
  const withHeader = dir.write('rte/header.tsv', tsv([['index', 'sentence1', 'sentence2', 'label'], ...rows]));
  assert.deepEqual(readSentenceFile(withHeader, { taskName: 'rte', layout: glueLayout('rte', 'train'), labels: nli }).skipped, []);
});

test('a split with no examples is refused naming its file (before any training); a misspelt task name gets a hint', () => {
  const root = `${dir.path}/empty-splits`;
  dir.write('empty-splits/finetuning_data/chunk/train.txt', 'a DT B-NP\nb NN I-NP\n\n');
  dir.write('empty-splits/finetuning_data/chunk/dev.txt', '\n\n');
  dir.write('empty-splits/finetuning_data/squad/dev.json', JSON.stringify({ version: 'v2.0', data: [] }));
  const tasks = (names: string[]) => getTasks({
    hparams: resolveHparams({ data_dir: root, task_names: names, max_seq_length: 64, max_query_length: 16 }).hparams,
    tokenizer: BertTokenizer.fromVocab(bertUncasedVocab()), warn: () => {},
  });
  const [chunk] = tasks(['chunk']);
  assert.equal(chunk!.getExamples('train').length, 1);
  assert.throws(() => chunk!.getExamples('dev'), /empty-splits\/finetuning_data\/chunk\/dev\.txt: no sentences could be read/);
  const [squad] = tasks(['squad']);
  assert.throws(() => squad!.getExamples('dev'), /empty-splits\/finetuning_data\/squad\/dev\.json: no questions could be read/);
  assert.throws(() => tasks(['rtee']), /unknown task 'rtee' \(did you mean 'rte'\?\)/);
});
