// Readers for GLUE TSVs, SQuAD JSON, MRQA jsonl, CoNLL files and the Brown demo data.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  glueLayout, glueFile, readSentenceFile, type GlueTaskName, type LabelSpec,
} from '../../src/finetune/classification/data.js';
import { readSquad, readMrqa } from '../../src/finetune/qa/data.js';
import { readConll } from '../../src/finetune/tagging/conll.js';
import { readTsv } from '../../src/finetune/data/text-file.js';
import {
  brownDocuments, brownGenreExamples, brownGenres, brownPosSentences, brownPosTags, normalizeBrownTag,
} from '../../src/finetune/data/brown.js';
import { TempDir, glue, conllTrain, squadV2, mrqaJsonl, tsv } from './fixtures.js';

const dir = new TempDir();
after(() => dir.remove());

const binary: LabelSpec = { type: 'classification', labels: ['0', '1'] };
const nli: LabelSpec = { type: 'classification', labels: ['entailment', 'not_entailment'] };
const mnliLabels: LabelSpec = { type: 'classification', labels: ['contradiction', 'entailment', 'neutral'] };
const sts: LabelSpec = { type: 'regression', min: 0, max: 5 };

function read(task: GlueTaskName, split: string, content: string, labels: LabelSpec, doubleUnordered = false) {
  const file = dir.write(`${task}/${split}.tsv`, content);
  return readSentenceFile(file, { taskName: task, layout: glueLayout(task, split), labels, doubleUnordered });
}

test('CoLA: train/dev have no header; test has one and gets the dummy label', () => {
  const train = read('cola', 'train', glue.colaTrain, binary);
  assert.deepEqual(train.examples.map((e) => [e.eid, e.label, e.textB]), [[0, '1', null], [1, '0', null]]);
  assert.equal(train.examples[1]!.textA, "One more pseudo generalization and I'm giving up.");
  const testSplit = read('cola', 'test', glue.colaTest, binary);
  assert.deepEqual(testSplit.examples.map((e) => [e.eid, e.textA, e.label]), [[0, 'Bill whistled past the house.', '0']]);
});

test('SST-2: header skipped, sentence in column 0 (trailing space kept); test reads column 1', () => {
  const dev = read('sst', 'dev', glue.sstDev, binary);
  assert.deepEqual(dev.examples.map((e) => [e.eid, e.textA, e.label]), [
    [0, "it 's a charming and often affecting journey . ", '1'], [1, 'unflinchingly bleak and desperate ', '0']]);
  assert.equal(read('sst', 'test', glue.sstTest, binary).examples[0]!.textA, 'uneasy mishmash of styles and genres .');
});

test('MRPC: quality/#1 ID/#2 ID/#1 String/#2 String, quotes kept verbatim, double_unordered on train', () => {
  const plain = read('mrpc', 'train', glue.mrpcTrain, binary);
  assert.equal(plain.examples.length, 2);
  assert.ok(plain.examples[0]!.textA.startsWith('Amrozi accused his brother , whom he called " the witness "'));
  assert.equal(plain.examples[0]!.label, '1');
  const doubled = read('mrpc', 'train', glue.mrpcTrain, binary, true);
  assert.equal(doubled.examples.length, 4);
  const [a, , swapped] = doubled.examples;
  assert.equal(swapped!.eid, 2); // offset by the number of unswapped examples
  assert.equal(swapped!.textA, a!.textB);
  assert.equal(swapped!.textB, a!.textA);
  assert.equal(swapped!.label, a!.label);
});

test('STS-B: sentences in the third- and second-last columns, score last; test has no score', () => {
  const dev = read('sts', 'dev', glue.stsDev, sts);
  assert.deepEqual(dev.examples.map((e) => [e.textA, e.textB, e.label]), [
    ['A man with a hard hat is dancing.', 'A man wearing a hard hat is dancing.', 5],
    ['A young child is riding a horse.', 'A child is riding a horse.', 4.75]]);
  const t = read('sts', 'test', glue.stsTest, sts);
  assert.deepEqual([t.examples[0]!.textA, t.examples[0]!.textB, t.examples[0]!.label], ['A girl is styling her hair.', 'A girl is brushing her hair.', 0]);
  const bad = glue.stsDev.replace('4.750', '5.5');
  assert.throws(() => read('sts', 'dev', bad, sts), /sts\/dev\.tsv:3: sts target 5\.5 is outside \[0, 5\]/);
  assert.throws(() => read('sts', 'dev', glue.stsDev.replace('4.750', 'n/a'), sts), /dev\.tsv:3: expected a number as the sts target, found "n\/a"/);
});

test('QQP: malformed rows are skipped (with their line) and keep the eid numbering', () => {
  const train = read('qqp', 'train', glue.qqpTrain, binary);
  assert.deepEqual(train.examples.map((e) => [e.eid, e.label]), [[0, '0'], [2, '1']]);
  assert.equal(train.skipped.length, 1);
  assert.match(train.skipped[0]!.message, /qqp\/train\.tsv:3: expected at least 6 tab-separated columns for qqp, found 4; row skipped/);
  const t = read('qqp', 'test', glue.qqpTest, binary);
  assert.equal(t.examples[0]!.textB, 'Find the remainder when [math]23^{24}[/math] is divided by 24,23?');
});

test('MNLI: dev means dev_matched; sentences in columns 8/9, gold label last; diagnostic layout', () => {
  assert.match(glueFile('/d/mnli', 'mnli', 'dev'), /\/d\/mnli\/dev_matched\.tsv$/);
  assert.match(glueFile('/d/mnli', 'mnli', 'dev_mismatched'), /dev_mismatched\.tsv$/);
  const m = read('mnli', 'dev_matched', glue.mnliDevMatched, mnliLabels);
  assert.deepEqual([m.examples[0]!.textA, m.examples[0]!.textB, m.examples[0]!.label],
    ['The new rights are nice enough', 'Everyone really likes the newest benefits ', 'neutral']);
  assert.equal(read('mnli', 'dev_mismatched', glue.mnliDevMismatched, mnliLabels).examples[0]!.label, 'contradiction');
  assert.equal(read('mnli', 'train', glue.mnliTrain, mnliLabels).examples[0]!.label, 'neutral');
  const diag = read('mnli', 'diagnostic', glue.mnliDiagnostic, mnliLabels);
  assert.deepEqual([diag.examples[0]!.textA, diag.examples[0]!.label], ['The cat sat on the mat.', 'contradiction']);
});

test('QNLI and RTE: index, two texts, label; a label outside the list names file and line', () => {
  assert.equal(read('qnli', 'dev', glue.qnliDev, nli).examples[0]!.label, 'entailment');
  assert.equal(read('rte', 'train', glue.rteTrain, nli).examples[0]!.textB, 'Weapons of Mass Destruction Found in Iraq.');
  assert.throws(() => read('rte', 'train', glue.rteTrain.replace('not_entailment', 'contradiction'), nli),
    /rte\/train\.tsv:2: label "contradiction" is not one of "entailment", "not_entailment" for rte/);
});

test('TSV rows: CRLF endings, empty lines as empty rows, missing file named', () => {
  const file = dir.write('crlf.tsv', 'a\tb\r\n\r\nc\td\r\n');
  assert.deepEqual(readTsv(file).map((r) => [r.line, r.fields]), [[1, ['a', 'b']], [2, []], [3, ['c', 'd']]]);
  assert.throws(() => readTsv(dir.path + '/nope.tsv'), /data file not found: .*nope\.tsv/);
  // an empty row in a headerless layout is skipped like a short one
  const cola = read('cola', 'dev', tsv([['gj04', '1', '', 'Fine.']]) + '\n', binary);
  assert.equal(cola.examples.length, 1);
  assert.equal(cola.skipped.length, 1);
});

test('SQuAD 2.0: training answers located in UTF-16 units; impossible questions; dev keeps gold texts', () => {
  const file = dir.write('squad/train.json', squadV2());
  const train = readSquad(file, { taskName: 'squad', split: 'train', v2: true });
  assert.deepEqual(train.failures, []);
  const [q1, q2] = train.examples;
  assert.equal(q1!.context.slice(q1!.answer!.start, q1!.answer!.end), 'Denver Broncos');
  assert.equal(q1!.isImpossible, false);
  assert.deepEqual([q2!.isImpossible, q2!.answer], [true, null]);
  const dev = readSquad(dir.write('squad/dev.json', squadV2()), { taskName: 'squad', split: 'dev', v2: true });
  assert.deepEqual(dev.examples.map((e) => [e.id, e.answers, e.isImpossible, e.answer]), [
    ['56be4db0acb8001400a502ec', ['Denver Broncos', 'The Denver Broncos'], false, null],
    ['5ad39d53604f3c001a3fe8d1', [], true, null]]);
});

test('SQuAD: offsets count code points (as Python); bad answers are dropped as the reference drops them', () => {
  const context = '\u{1F600} smile: Denver Broncos won';
  const data = (answers: { text: string; answer_start: number }[]) => JSON.stringify({
    version: '1.1', data: [{ title: 't', paragraphs: [{ context, qas: [{ id: 'x', question: 'q?', answers }] }] }],
  });
  const ok = readSquad(dir.write('emoji.json', data([{ text: 'Denver Broncos', answer_start: 9 }])), { taskName: 'squadv1', split: 'train' });
  const e = ok.examples[0]!;
  assert.equal(e.context.slice(e.answer!.start, e.answer!.end), 'Denver Broncos');
  assert.equal(e.answer!.start, 10); // code point 9 is UTF-16 unit 10 after the surrogate pair
  const wrong = readSquad(dir.write('wrong.json', data([{ text: 'Broncos', answer_start: 2 }])), { taskName: 'squadv1', split: 'train' });
  assert.equal(wrong.examples.length, 0);
  assert.match(wrong.failures[0]!, /could not find answer "broncos" in "smile:"; question skipped/);
  const past = readSquad(dir.write('past.json', data([{ text: 'won and more', answer_start: 24 }])), { taskName: 'squadv1', split: 'train' });
  assert.match(past.failures[0]!, /runs past the end of the context/);
  // Dev questions are never dropped.
  assert.equal(readSquad(dir.write('wrong-dev.json', data([{ text: 'Broncos', answer_start: 2 }])), { taskName: 'squadv1', split: 'dev' }).examples.length, 1);
});

test('SQuAD: structural errors name the file and JSON path', () => {
  const file = dir.write('broken.json', JSON.stringify({ data: [{ paragraphs: [{ context: 'c', qas: [{ id: 'x', answers: [] }] }] }] }));
  assert.throws(() => readSquad(file, { taskName: 'squad', split: 'dev' }), /broken\.json: data\[0\]\.paragraphs\[0\]\.qas\[0\]\.question: expected a string, found nothing/);
  assert.throws(() => readSquad(dir.write('notjson.json', '{"data": ['), { taskName: 'squad', split: 'dev' }), /notjson\.json: invalid JSON/);
  const v2 = dir.write('noimp.json', JSON.stringify({ data: [{ paragraphs: [{ context: 'c', qas: [{ id: 'x', question: 'q', answers: [] }] }] }] }));
  assert.throws(() => readSquad(v2, { taskName: 'squad', split: 'train', v2: true }), /qas\[0\]\.is_impossible: expected true or false/);
});

test('MRQA jsonl: header skipped, detected_answers char_spans locate the answer, qid is the id', () => {
  const file = dir.write('newsqa/train.jsonl', mrqaJsonl());
  const train = readMrqa(file, { taskName: 'newsqa', split: 'train' });
  assert.deepEqual(train.examples.map((e) => [e.eid, e.id, e.context.slice(e.answer!.start, e.answer!.end)]),
    [[0, 'a1b2', '1889'], [1, 'c3d4', 'Gustave Eiffel']]);
  const dev = readMrqa(dir.write('newsqa/dev.jsonl', mrqaJsonl()), { taskName: 'newsqa', split: 'dev' });
  assert.deepEqual(dev.examples[1]!.answers, ['Gustave Eiffel', 'Eiffel']);
  const broken = dir.write('bad.jsonl', mrqaJsonl() + '{"context": "x", "qas": [{"qid": 1}]}\n');
  assert.throws(() => readMrqa(broken, { taskName: 'newsqa', split: 'dev' }), /bad\.jsonl:3: qas\[0\]\.answers: expected an array/);
});

test('CoNLL-2000: word POS chunk lines, blank line between sentences, -DOCSTART- ignored', () => {
  const file = dir.write('chunk/train.txt', '-DOCSTART- -X- O\n\n' + conllTrain);
  const sentences = readConll(file);
  assert.equal(sentences.length, 2);
  assert.deepEqual(sentences[0]!.words.slice(0, 3), ['Confidence', 'in', 'the']);
  assert.deepEqual(sentences[0]!.tags, ['B-NP', 'B-PP', 'B-NP', 'I-NP', 'B-VP', 'I-VP', 'I-VP', 'O']);
  assert.equal(sentences[1]!.line, 12);
  // no final blank line: the last sentence is kept
  assert.equal(readConll(dir.write('nofinal.txt', 'a DT B-NP\nb NN I-NP')).length, 1);
  assert.throws(() => readConll(dir.write('short.txt', 'a DT B-NP\nlonely\n')), /short\.txt:2: expected at least 2 whitespace-separated columns \(word \.\.\. tag\), found 1/);
  assert.deepEqual(readConll(dir.write('pos.txt', 'a DT B-NP\n'), { tagColumn: 1 })[0]!.tags, ['DT']);
});

test('Brown demo data: document-level split, 15 genres, ~190 normalised POS tags', () => {
  assert.equal(normalizeBrownTag('fw-nn-tl'), 'nn');
  assert.equal(normalizeBrownTag('nn-tl-hl'), 'nn');
  assert.equal(normalizeBrownTag('fw-in+nn-tl'), 'in+nn');
  assert.equal(normalizeBrownTag('np$'), 'np$');
  const train = new Set(brownDocuments('train').map((d) => d.id));
  const dev = brownDocuments('dev').map((d) => d.id);
  assert.equal(train.size + dev.length, 500);
  assert.ok(dev.every((id) => !train.has(id)), 'no document in both splits');
  assert.deepEqual(dev.slice(0, 3), ['ca03', 'ca08', 'ca13']); // news: every 5th from the third
  assert.equal(new Set(brownDocuments('dev').map((d) => d.category)).size, 15, 'every genre has dev documents');
  const genres = brownGenres();
  assert.equal(genres.length, 15);
  assert.deepEqual(genres.slice(0, 3), ['adventure', 'belles_lettres', 'editorial']);
  const passages = brownGenreExamples('dev');
  assert.ok(passages.every((p) => !train.has(p.documentId)));
  const devSentences = brownDocuments('dev').flatMap((d) => d.sentences);
  // with a budget of 1 word every sentence stands alone
  assert.deepEqual(brownGenreExamples('dev', 1).map((p) => p.textA), devSentences.map((s) => s.words.join(' ')));
  const words = passages.map((p) => p.textA.split(' ').length);
  assert.equal(words.reduce((a, b) => a + b, 0), devSentences.reduce((a, s) => a + s.words.length, 0), 'every word in one passage');
  assert.ok(words.filter((n) => n > 80).length < passages.length / 50, 'only single long sentences exceed the budget');
  assert.equal(passages[0]!.label, 'news');
  assert.deepEqual(brownGenreExamples('dev').map((p) => p.textA), passages.map((p) => p.textA), 'deterministic');
  const tags = brownPosTags();
  assert.equal(tags.length, 190);
  const sentences = brownPosSentences('dev');
  assert.ok(sentences.every((s) => s.tags.every((t) => tags.includes(t))));
  assert.throws(() => brownGenreExamples('test'), /brown_genre has only train and dev splits, not 'test'/);
});
