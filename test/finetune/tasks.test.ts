// The task registry over a data directory in the reference layout, written by the test.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { BertTokenizer, bertUncasedVocab } from '../../src/tokenizer/index.js';
import { BUILTIN_QA_TASKS, resolveHparams } from '../../src/finetune/hparams.js';
import {
  getTask, getTasks, taskDefaults, BUILTIN_TASKS, SentenceTask, QaTask, TaggingTask, type TaskContext,
} from '../../src/finetune/tasks.js';
import { resultsObject } from '../../src/finetune/scorer.js';
import type { ClassificationResult } from '../../src/finetune/classification/metrics.js';
import { TempDir, glue, conllTrain, squadV2, mrqaJsonl, tsv } from './fixtures.js';

const tokenizer = BertTokenizer.fromVocab(bertUncasedVocab());
const dir = new TempDir();
after(() => dir.remove());

const data = (task: string, file: string, content: string): string => dir.write(`finetuning_data/${task}/${file}`, content);
data('cola', 'train.tsv', glue.colaTrain);
data('cola', 'test.tsv', glue.colaTest);
data('sst', 'dev.tsv', glue.sstDev);
data('mrpc', 'train.tsv', glue.mrpcTrain);
data('mrpc', 'dev.tsv', glue.mrpcTrain);
data('sts', 'dev.tsv', glue.stsDev);
data('sts', 'train.tsv', glue.stsDev);
data('qqp', 'train.tsv', glue.qqpTrain);
data('mnli', 'dev_matched.tsv', glue.mnliDevMatched);
data('mnli', 'dev_mismatched.tsv', glue.mnliDevMismatched);
data('qnli', 'dev.tsv', glue.qnliDev);
data('rte', 'train.tsv', glue.rteTrain);
data('squad', 'dev.json', squadV2());
data('squadv1', 'train.json', squadV2());
data('newsqa', 'dev.jsonl', mrqaJsonl());
data('chunk', 'train.txt', conllTrain);
data('chunk', 'dev.txt', 'He PRP B-NP\nreckons VBZ B-VP\n\n');

function context(hparams: Record<string, unknown> = {}, warnings: string[] = []): TaskContext {
  return { hparams: resolveHparams({ data_dir: dir.path, ...hparams }).hparams, tokenizer, warn: (m) => warnings.push(m) };
}

test('every reference task is registered with its kind, and the single-task defaults of the reference', () => {
  for (const name of ['cola', 'sst', 'mrpc', 'sts', 'qqp', 'mnli', 'qnli', 'rte', 'squad', 'squadv1', 'newsqa', 'naturalqs', 'triviaqa', 'searchqa', 'chunk']) {
    const task = getTask(name, context());
    assert.equal(task.name, name);
    assert.equal(task.kind, BUILTIN_TASKS[name]!.kind);
  }
  assert.deepEqual(taskDefaults('cola'), { numTrainEpochs: 3, maxSeqLength: 128 });
  assert.deepEqual(taskDefaults('rte'), { numTrainEpochs: 10, maxSeqLength: 128 });
  assert.deepEqual(taskDefaults('sts'), { numTrainEpochs: 10, maxSeqLength: 128 });
  assert.deepEqual(taskDefaults('squad'), { numTrainEpochs: 2, maxSeqLength: 512 });
  assert.deepEqual(taskDefaults('triviaqa'), { numTrainEpochs: 2, maxSeqLength: 512 });
  assert.deepEqual(taskDefaults('chunk'), { numTrainEpochs: 3, maxSeqLength: 256 });
  assert.deepEqual(Object.keys(BUILTIN_TASKS).filter((t) => BUILTIN_TASKS[t]!.kind === 'qa').sort(), [...BUILTIN_QA_TASKS].sort());
  // By type, never by name: a user's classification task named like a QA set keeps the classification defaults.
  for (const name of ['myqa', 'squad_reviews', 'rte']) {
    const hp = resolveHparams({ task_names: [name], custom_tasks: { [name]: { type: 'classification' } }, max_query_length: 200 }).hparams;
    assert.deepEqual([hp.num_train_epochs, hp.max_seq_length], [3, 128], name);
  }
  const qa = resolveHparams({ task_names: ['squad'] }).hparams;
  assert.deepEqual([qa.num_train_epochs, qa.max_seq_length], [2, 512]);
  assert.throws(() => getTask('glue', context()), /unknown task 'glue'; known tasks: cola, sst/);
  assert.throws(() => getTask('classification', context()), /task 'classification' needs its configuration in the 'classification' hparam/);
  assert.deepEqual(getTasks(context({ task_names: ['cola', 'rte'] })).map((t) => t.name), ['cola', 'rte']);
});

test('GLUE tasks read <data_dir>/finetuning_data/<task>/<split>.tsv, featurise and score', () => {
  const sst = getTask('sst', context()) as SentenceTask;
  const examples = sst.getExamples('dev');
  assert.equal(examples.length, 2);
  const [f] = sst.featurize(examples[1]!);
  assert.deepEqual(f!.inputIds, ['[CLS]', 'un', '##fl', '##in', '##ching', '##ly', 'bleak', 'and', 'desperate', '[SEP]'].map((t) => tokenizer.vocab.idOf(t)));
  assert.equal(f!.label, 0);
  const scorer = sst.createScorer();
  scorer.update({ label: 1, prediction: 1, loss: 0.5 } as ClassificationResult);
  scorer.update({ label: 0, prediction: 1, loss: 0.5 } as ClassificationResult);
  assert.deepEqual(scorer.getResults(), [['accuracy', 50], ['loss', 0.5]]);

  const cola = getTask('cola', context()) as SentenceTask;
  assert.equal(cola.metric, 'mcc');
  assert.equal(cola.getExamples('test')[0]!.textA, 'Bill whistled past the house.');
  assert.deepEqual(cola.testSplits(), ['test']);
  const mnli = getTask('mnli', context()) as SentenceTask;
  assert.equal(mnli.getExamples('dev')[0]!.label, 'neutral');
  assert.equal(mnli.getExamples('dev_mismatched')[0]!.label, 'contradiction');
  assert.deepEqual(mnli.testSplits(), ['test_matched', 'test_mismatched', 'diagnostic']);
  assert.equal(mnli.numOutputs, 3);
  assert.equal((getTask('qnli', context()) as SentenceTask).getExamples('dev').length, 1);
  assert.equal((getTask('rte', context()) as SentenceTask).featurize((getTask('rte', context()) as SentenceTask).getExamples('train')[0]!)[0]!.label, 1);
  assert.throws(() => (getTask('sst', context()) as SentenceTask).getExamples('train'), /data file not found: .*finetuning_data\/sst\/train\.tsv/);
});

test('double_unordered doubles mrpc/sts training data only; qqp skipped rows are reported', () => {
  assert.equal((getTask('mrpc', context()) as SentenceTask).getExamples('train').length, 4);
  assert.equal((getTask('mrpc', context()) as SentenceTask).getExamples('dev').length, 2);
  assert.equal((getTask('mrpc', context({ double_unordered: false })) as SentenceTask).getExamples('train').length, 2);
  const sts = getTask('sts', context()) as SentenceTask;
  assert.equal(sts.getExamples('train').length, 4);
  assert.equal(sts.featurize(sts.getExamples('dev')[1]!)[0]!.label, 0.95);
  assert.equal(sts.numOutputs, 1);
  assert.deepEqual(Object.keys(resultsObject((() => {
    const s = sts.createScorer();
    s.update({ target: 0.2, prediction: 0.3, loss: 0 });
    s.update({ target: 0.8, prediction: 0.6, loss: 0 });
    return s.getResults();
  })())), ['pearson', 'spearman', 'mse', 'loss']);
  const warnings: string[] = [];
  const qqp = getTask('qqp', context({}, warnings)) as SentenceTask;
  assert.equal(qqp.getExamples('train').length, 2);
  assert.match(warnings[0]!, /qqp\/train\.tsv:3: expected at least 6 tab-separated columns for qqp, found 4; row skipped/);
  assert.equal(qqp.metric, 'accuracy_f1');
});

test('QA tasks: SQuAD 2.0 / 1.1 JSON and MRQA jsonl with their evaluations', () => {
  const squad = getTask('squad', context({ joint_prediction: false })) as QaTask;
  assert.equal(squad.evaluation, 'squad_v2');
  const windows = squad.evalFeatures('dev');
  assert.equal(windows.length, 2);
  assert.equal(squad.evalFeatures('dev'), windows, 'cached');
  const scorer = squad.createScorer('dev');
  for (const w of windows) {
    const n = w.inputIds.length;
    const startLogits = new Array<number>(n).fill(0);
    const endLogits = new Array<number>(n).fill(0);
    const denver = w.tokenSpans.findIndex((s) => s !== null && s[0] === 49);
    startLogits[denver] = 5;
    endLogits[denver + 1] = 5;
    scorer.update({ uniqueId: w.uniqueId, startLogits, endLogits, answerableLogit: w.eid === 0 ? -5 : 5, loss: 0 });
  }
  const m = resultsObject(scorer.getResults());
  assert.deepEqual([m.exact, m.HasAns_exact, m.NoAns_exact], [100, 100, 100]);

  const v1 = getTask('squadv1', context()) as QaTask;
  assert.equal(v1.evaluation, 'squad_v1');
  // v1 reads no is_impossible: a training question without answers is an error (an IndexError in the reference)
  assert.throws(() => v1.getExamples('train'), /squadv1\/train\.json: data\[0\]\.paragraphs\[0\]\.qas\[1\]: an answerable training question needs at least one answer/);
  const news = getTask('newsqa', context()) as QaTask;
  assert.equal(news.evaluation, 'mrqa');
  assert.deepEqual(news.getExamples('dev').map((e) => e.id), ['a1b2', 'c3d4']);
  assert.equal(news.file('dev'), `${dir.path}/finetuning_data/newsqa/dev.jsonl`);
  assert.deepEqual(squad.testSplits(), ['test']);
});

test('chunk: BIOES labels from all splits, sorted; entity-level F1 scorer', () => {
  const chunk = getTask('chunk', context()) as TaggingTask;
  assert.deepEqual(chunk.labels, ['B-NP', 'B-VP', 'E-NP', 'E-VP', 'I-VP', 'O', 'S-NP', 'S-PP', 'S-VP']);
  const [first] = chunk.getExamples('train');
  assert.deepEqual(first!.labels.map((id) => chunk.labels[id]), ['S-NP', 'S-PP', 'B-NP', 'E-NP', 'B-VP', 'I-VP', 'E-VP', 'O']);
  const [f] = chunk.featurize(first!);
  assert.deepEqual(f!.labeledPositions, [1, 2, 3, 4, 5, 6, 7, 8]);
  const scorer = chunk.createScorer();
  scorer.update({ labels: f!.labels, predictions: f!.labels, loss: 0 });
  assert.equal(resultsObject(scorer.getResults()).f1, 100);
});

test('generic tasks from hparams: classification (inferred labels, other delimiter), regression, tagging', () => {
  data('classification', 'train.tsv', 'text,label\ngreat film,pos\nawful,neg\nfine,pos\n');
  data('reviews', 'train.csv', 'id,text,label\n1,great film,pos\n2,awful,neg\n');
  data('regression', 'dev.tsv', tsv([['nice', '0.5'], ['bad', '2']]));
  data('tagging', 'train.txt', 'The DT\ncat NN\n\n');
  const ctx = context({
    task_names: ['classification', 'reviews', 'regression', 'tagging'],
    classification: { delimiter: ',', skip_first_line: true, metric: 'accuracy_f1', positive_label: 'pos' },
    regression: { min_value: 0, max_value: 4 },
    tagging: { labels: ['DT', 'NN', 'VB'] },
    custom_tasks: { reviews: { type: 'classification', train_file: `${dir.path}/finetuning_data/reviews/train.csv`, delimiter: ',', skip_first_line: true, text_a_column: 1, label_column: -1 } },
  });
  const [cls, reviews, reg, tag] = getTasks(ctx) as [SentenceTask, SentenceTask, SentenceTask, TaggingTask];
  assert.deepEqual(cls.labels, { type: 'classification', labels: ['neg', 'pos'] });
  assert.deepEqual(cls.getExamples('train').map((e) => [e.textA, e.label]), [['great film', 'pos'], ['awful', 'neg'], ['fine', 'pos']]);
  const s = cls.createScorer();
  s.update({ label: 1, prediction: 1, loss: 0 } as ClassificationResult);
  s.update({ label: 0, prediction: 1, loss: 0 } as ClassificationResult);
  assert.deepEqual(Object.keys(resultsObject(s.getResults())), ['accuracy', 'f1', 'loss']);
  assert.deepEqual(reviews.getExamples('train').map((e) => [e.eid, e.textA, e.label]), [[0, 'great film', 'pos'], [1, 'awful', 'neg']]);
  assert.equal(reg.featurize(reg.getExamples('dev')[1]!)[0]!.label, 0.5);
  assert.deepEqual(tag.getExamples('train')[0]!.labels, [0, 1]);
  assert.equal(tag.tokenLevel, true);
  assert.throws(() => getTask('classification', context({ classification: { metric: 'f1', positive_label: 'maybe', delimiter: ',', skip_first_line: true } })),
    /positive_label "maybe" is not one of the labels neg, pos/);
  assert.throws(() => getTask('classification', context({ classification: { train_file: '/nonexistent/x.tsv' } })),
    /'labels' is not set and there is no training file \/nonexistent\/x\.tsv/);
});

test('Brown demo tasks: genre classification and POS tagging on shipped data', () => {
  const genre = getTask('brown_genre', context({ debug: true })) as SentenceTask;
  assert.equal(genre.numOutputs, 15);
  const examples = genre.getExamples('dev');
  assert.equal(examples.length, 100, 'debug mode keeps 100 examples');
  const [f] = genre.featurize(examples[0]!);
  assert.equal(f!.label, 10); // news
  assert.ok(f!.inputIds.length <= 128);
  const pos = getTask('brown_pos', context()) as TaggingTask;
  assert.equal(pos.labels.length, 190);
  const sentence = pos.getExamples('dev')[0]!;
  // ca03: Several/ap defendants/nns ... Judge/nn-tl (normalised to nn)
  assert.deepEqual(sentence.words.slice(0, 2), ['Several', 'defendants']);
  assert.deepEqual(sentence.labels.slice(0, 2).map((id) => pos.labels[id]), ['ap', 'nns']);
  assert.equal(pos.labels[sentence.labels[sentence.words.indexOf('Judge')]!], 'nn');
  assert.deepEqual(pos.testSplits(), []);
});
