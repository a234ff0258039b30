// QA post-processing on hand-made logits: n-best, validity filters, null odds, files, scoring.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BertTokenizer, bertUncasedVocab } from '../../src/tokenizer/index.js';
import { featurizeQa, type QaFeatures } from '../../src/finetune/qa/features.js';
import {
  postprocessQa, applyNullThreshold, topKIndices, softmax, pythonJson, writeQaPredictions,
  type QaPostprocessOptions, type QaRawResult,
} from '../../src/finetune/qa/postprocess.js';
import { SpanBasedQaScorer } from '../../src/finetune/qa/scorer.js';
import { readSquad, readMrqa, type QaExample } from '../../src/finetune/qa/data.js';
import { resultsObject } from '../../src/finetune/scorer.js';
import { TempDir, squadV2, mrqaJsonl } from './fixtures.js';

const tok = BertTokenizer.fromVocab(bertUncasedVocab());
const dir = new TempDir();
after(() => dir.remove());

const example = (context: string, id = 'q1', question = 'Who won?'): QaExample => ({
  taskName: 'squad', eid: 0, id, question, context, answers: [], isImpossible: false, answer: null,
});
const plain: QaPostprocessOptions = { nBestSize: 3, maxAnswerLength: 30, jointPrediction: false, v2: false, answerableClassifier: true };
const featurize = (e: QaExample, maxSeqLength = 64, docStride = 128): QaFeatures[] =>
  featurizeQa(tok, e, false, { maxSeqLength, maxQueryLength: 64, docStride });

/** Logits over n positions: -10 except the given ones. */
function logits(n: number, set: Record<number, number>, fill = -10): number[] {
  const out = new Array<number>(n).fill(fill);
  for (const [k, v] of Object.entries(set)) out[Number(k)] = v;
  return out;
}

// [CLS] who won ? [SEP] the denver broncos won the game . [SEP]
const context = 'The Denver Broncos won the game.';

test('top-k ties keep index order; softmax', () => {
  assert.deepEqual(topKIndices([1, 3, 3, 2], 3), [1, 2, 3]);
  assert.deepEqual(topKIndices([0, 0, 0], 2), [0, 1]);
  const p = softmax([9, 6]);
  assert.ok(Math.abs(p[0]! - 1 / (1 + Math.exp(-3))) < 1e-12);
});

test('independent start/end logits: invalid spans dropped, n-best by total score with probabilities', () => {
  const e = example(context);
  const [f] = featurize(e);
  assert.equal(f!.inputIds.length, 13);
  // the best start is a question token (2) and [CLS] (0), the best end is [SEP] (12): all invalid
  const result: QaRawResult = {
    uniqueId: 0,
    startLogits: logits(13, { 2: 10, 0: 8, 6: 5, 5: 3 }),
    endLogits: logits(13, { 12: 9, 7: 4, 6: 1 }),
  };
  const out = postprocessQa([e], [f!], [result], plain);
  assert.equal(out.predictions.get('q1'), 'Denver Broncos');
  const nbest = out.nbest.get('q1')!;
  assert.deepEqual(nbest.map((n) => [n.text, n.startLogit, n.endLogit]), [['Denver Broncos', 5, 4], ['Denver', 5, 1]]);
  assert.ok(Math.abs(nbest[0]!.probability - 1 / (1 + Math.exp(-3))) < 1e-12);
  assert.equal(out.nullOdds, null);
  // max_answer_length 1 leaves only single tokens
  assert.equal(postprocessQa([e], [f!], [result], { ...plain, maxAnswerLength: 1 }).predictions.get('q1'), 'Denver');
});

test('joint prediction: beams of starts and of ends per start', () => {
  const e = example(context);
  const [f] = featurize(e);
  const out = postprocessQa([e], [f!], [{
    uniqueId: 0, startTopIndex: [6, 5], startTopLogProbs: [-0.1, -2.5],
    endTopIndex: [[7, 6], [7, 11]], endTopLogProbs: [[-0.2, -1.9], [-0.3, -3]],
  }], { ...plain, jointPrediction: true, nBestSize: 20 });
  assert.deepEqual(out.nbest.get('q1')!.map((n) => n.text), ['Denver Broncos', 'Denver', 'The Denver Broncos', 'The Denver Broncos won the game.']);
  assert.throws(() => postprocessQa([e], [f!], [{ uniqueId: 0 }], { ...plain, jointPrediction: true }), /joint prediction needs startTopIndex/);
});

test('v2 null odds: the answerability logit, or [CLS] start+end minus the best span', () => {
  const e = example(context);
  const [f] = featurize(e);
  const result: QaRawResult = {
    uniqueId: 0, answerableLogit: -1.5,
    startLogits: logits(13, { 0: 8, 6: 5 }), endLogits: logits(13, { 7: 4 }),
  };
  const withClassifier = postprocessQa([e], [f!], [result], { ...plain, v2: true });
  assert.equal(withClassifier.nullOdds!.get('q1'), -1.5);
  assert.equal(withClassifier.predictions.get('q1'), 'Denver Broncos');
  const noClassifier = postprocessQa([e], [f!], [result], { ...plain, v2: true, answerableClassifier: false });
  assert.equal(noClassifier.nullOdds!.get('q1'), 8 - 10 - (5 + 4));
  assert.throws(() => postprocessQa([e], [f!], [{ ...result, answerableLogit: undefined }], { ...plain, v2: true }), /answerableLogit is missing/);
});

test('windows: a start outside its max-context window is dropped; the null score is the minimum over windows', () => {
  const e = example('a b c d e f g h i j', 'w', 'q ?');
  const windows = featurize(e, 9, 2);
  assert.equal(windows.length, 4);
  const zeros = logits(9, {}, 0);
  const results: QaRawResult[] = [
    // window 0: token d (position 7) scores highest but window 1 gives it more context
    { uniqueId: 0, startLogits: logits(9, { 7: 10 }, 0), endLogits: logits(9, { 7: 10 }, 0), answerableLogit: 2 },
    { uniqueId: 1, startLogits: logits(9, { 5: 2 }, 0), endLogits: logits(9, { 5: 2, 6: 1 }, 0), answerableLogit: -1 },
    { uniqueId: 2, startLogits: zeros, endLogits: zeros, answerableLogit: 0.5 },
    { uniqueId: 3, startLogits: zeros, endLogits: zeros, answerableLogit: 3 },
  ];
  const out = postprocessQa([e], windows, results, { ...plain, v2: true });
  assert.deepEqual(out.nbest.get('w')!.map((n) => n.text), ['d', 'd e']);
  assert.equal(out.nullOdds!.get('w'), -1);
  assert.throws(() => postprocessQa([e], windows, results.slice(0, 3), plain), /no model result for QA feature 3 \(question w, window 3\)/);
});

test('duplicate texts are kept once; no valid span gives the "empty" placeholder', () => {
  const e = example('cat cat', 'd');
  const [f] = featurize(e);
  const out = postprocessQa([e], [f!], [{ uniqueId: 0, startLogits: logits(8, { 5: 3, 6: 2 }), endLogits: logits(8, { 5: 3, 6: 2 }) }], plain);
  assert.deepEqual(out.nbest.get('d')!.map((n) => n.text), ['cat', 'cat cat']);
  const none = postprocessQa([e], [f!], [{ uniqueId: 0, startLogits: logits(8, { 0: 5 }), endLogits: logits(8, { 0: 5 }) }], { ...plain, nBestSize: 1 });
  assert.deepEqual(none.nbest.get('d'), [{ text: 'empty', probability: 1, startLogit: 0, endLogit: 0 }]);
});

test('prediction files in Python json.dump form; the test-set null threshold', () => {
  const preds = new Map([['5', 'café'], ['q2', 'b']]);
  const result = {
    predictions: preds,
    nbest: new Map([['5', [{ text: 'café', probability: 1, startLogit: 0.5, endLogit: -1 }]]]),
    nullOdds: new Map([['5', -3], ['q2', 0.25]]),
  };
  const files = { predictions: dir.path + '/out/squad_preds.json', nbest: dir.path + '/out/squad_nbest.json', nullOdds: dir.path + '/out/squad_null_odds.json' };
  writeQaPredictions(files, result);
  assert.equal(readFileSync(files.predictions, 'utf8'), '{"5": "caf\\u00e9", "q2": "b"}');
  assert.equal(readFileSync(files.nullOdds, 'utf8'), '{"5": -3, "q2": 0.25}');
  assert.equal(readFileSync(files.nbest, 'utf8'), '{"5": [{"text": "caf\\u00e9", "probability": 1, "start_logit": 0.5, "end_logit": -1}]}');
  assert.deepEqual([...applyNullThreshold(preds, result.nullOdds, -2.75)], [['5', 'café'], ['q2', '']]);
  assert.equal(pythonJson(new Map([['k', [1, 'x', null, true]]])), '{"k": [1, "x", null, true]}');
});

/** Logits that pick `answer` in the window (by its character position in the context). */
function pick(f: QaFeatures, ctx: string, answer: string, answerable: number): QaRawResult {
  const start = ctx.indexOf(answer);
  const end = start + answer.length;
  const s = f.tokenSpans.findIndex((sp) => sp !== null && sp[0] === start);
  const t = f.tokenSpans.findIndex((sp) => sp !== null && sp[1] === end);
  assert.ok(s > 0 && t >= s, `answer ${answer} is a token span`);
  return { uniqueId: f.uniqueId, startLogits: logits(f.inputIds.length, { [s]: 5 }), endLogits: logits(f.inputIds.length, { [t]: 5 }), answerableLogit: answerable };
}

test('SpanBasedQaScorer: SQuAD 2.0 metrics sorted by name, with the null threshold and files', () => {
  const { examples } = readSquad(dir.write('squad/dev.json', squadV2()), { taskName: 'squad', split: 'dev', v2: true });
  const features = examples.flatMap((e) => featurize(e, 128));
  const files = { predictions: dir.path + '/qa/squad_preds.json', nullOdds: dir.path + '/qa/squad_null_odds.json' };
  const scorer = new SpanBasedQaScorer(examples, features, {
    ...plain, v2: true, evaluation: 'squad_v2', naThreshold: -2.75, outputFiles: files,
  });
  const ctx = examples[0]!.context;
  scorer.update({ ...pick(features[0]!, ctx, 'Denver Broncos', -5), loss: 1 });
  scorer.update({ ...pick(features[1]!, ctx, 'Carolina Panthers', 3), loss: 2 });
  assert.equal(scorer.getLoss(), 1.5);
  const results = scorer.getResults();
  assert.deepEqual(results.map(([k]) => k), [
    'HasAns_exact', 'HasAns_f1', 'HasAns_total', 'NoAns_exact', 'NoAns_f1', 'NoAns_total',
    'best_exact', 'best_exact_thresh', 'best_f1', 'best_f1_thresh', 'exact', 'f1', 'total']);
  const m = resultsObject(results);
  assert.deepEqual([m.exact, m.f1, m.HasAns_exact, m.NoAns_exact, m.total], [100, 100, 100, 100, 2]);
  assert.deepEqual([m.best_exact, m.best_exact_thresh], [100, -5]);
  assert.deepEqual(JSON.parse(readFileSync(files.predictions, 'utf8')), { '56be4db0acb8001400a502ec': 'Denver Broncos', '5ad39d53604f3c001a3fe8d1': 'Carolina Panthers' });
  assert.deepEqual(JSON.parse(readFileSync(files.nullOdds, 'utf8')), { '56be4db0acb8001400a502ec': -5, '5ad39d53604f3c001a3fe8d1': 3 });
});

test('SpanBasedQaScorer: SQuAD 1.1 and MRQA keys', () => {
  const { examples } = readMrqa(dir.write('newsqa/dev.jsonl', mrqaJsonl()), { taskName: 'newsqa', split: 'dev' });
  const features = examples.flatMap((e) => featurize(e, 128));
  const ctx = examples[0]!.context;
  for (const evaluation of ['mrqa', 'squad_v1'] as const) {
    const scorer = new SpanBasedQaScorer(examples, features, { ...plain, evaluation, naThreshold: -2.75 });
    scorer.update({ ...pick(features[0]!, ctx, '1889', 0), loss: 0 });
    scorer.update({ ...pick(features[1]!, ctx, 'Eiffel.', 0), loss: 0 }); // "eiffel" matches the second gold answer
    const m = resultsObject(scorer.getResults());
    assert.deepEqual(Object.keys(m), ['exact_match', 'f1']);
    assert.deepEqual([m.exact_match, m.f1], [100, 100]);
    assert.equal(scorer.lastPredictions!.predictions.get('c3d4'), 'Eiffel.');
  }
});
