// Fine-tuning heads: finite-difference gradient checks in float64 (JS kernels on Float64Array),
// hand-computed forward values, and the QA head's inference beams against its training pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DropoutSites } from '../../src/nn/dropout.js';
import { ParameterSet } from '../../src/nn/params.js';
import { allocFloats } from '../../src/nn/tensor.js';
import { sigmoidCrossEntropy, type HeadDims, type HeadInput } from '../../src/finetune/model/head.js';
import { SentenceHead } from '../../src/finetune/classification/head.js';
import { TaggingHead } from '../../src/finetune/tagging/head.js';
import { ElectraQaHead, HfQaHead, type ElectraQaOptions, type QaHead, type QaTargets } from '../../src/finetune/qa/head.js';
import { checkGradient, checkParamGradients, gradKernels as K, randomFloat64, randomizeParams } from '../nn/gradcheck.js';

const H = 6;
const S = 7;
const BATCH = 3;

function dims(maxRows = BATCH): HeadDims {
  return { hidden: H, maxRows, maxSeqLen: S, initializerRange: 0.02, hfDropout: 0.2, dtype: 'float64' };
}

/** Three sequences of 7: full, 5 real tokens, 4 real tokens; segment 1 from position 3. */
function batchMasks(): { inputMask: Int32Array; segmentIds: Int32Array } {
  const lengths = [7, 5, 4];
  const inputMask = new Int32Array(BATCH * S);
  const segmentIds = new Int32Array(BATCH * S);
  lengths.forEach((len, b) => {
    for (let t = 0; t < len; t++) {
      inputMask[b * S + t] = 1;
      segmentIds[b * S + t] = t >= 3 ? 1 : 0;
    }
  });
  return { inputMask, segmentIds };
}

function input(hidden: Float32Array, rows: number[], training: boolean, wantGrad: boolean): HeadInput {
  return { hidden, seqLen: S, rows, ...batchMasks(), training, stepSeed: 1234, wantGrad };
}

const sum = (a: Float64Array): number => a.reduce((s, v) => s + v, 0);

/** A bias added to every position of a softmax over positions: its gradient is exactly 0 (shift invariance). */
const SHIFT_INVARIANT = /(start_logits|end_logits|qa_logits|qa_outputs)\.bias$/;

/** Checks every parameter and the hidden states; rows outside `rows` must get no gradient. */
function checkHead(
  ps: ParameterSet, hidden: Float32Array, rows: number[], forward: (wantGrad: boolean) => number, backward: (dHidden: Float32Array) => void,
): void {
  const loss = (): number => forward(false);
  ps.zeroGrads();
  forward(true);
  const dHidden = allocFloats(hidden.length, 'float64');
  backward(dHidden);
  checkParamGradients(ps, loss, { maxChecks: 30, skip: (n) => SHIFT_INVARIANT.test(n) });
  for (const e of ps.entries) {
    if (SHIFT_INVARIANT.test(e.name)) assert.ok(e.grad.every((g) => Math.abs(g) < 1e-12), `${e.name}: gradient ${e.grad[0]} should be 0`);
  }
  checkGradient('hidden', hidden, dHidden, loss, { maxChecks: 60 });
  for (let b = 0; b < BATCH; b++) {
    if (rows.includes(b)) continue;
    assert.ok(dHidden.subarray(b * S * H, (b + 1) * S * H).every((v) => v === 0), `row ${b} is not this head's and gets no gradient`);
  }
}

for (const style of ['electra', 'hf'] as const) {
  test(`SentenceHead (${style}): classification loss, parameters and hidden states match finite differences (dropout on)`, () => {
    const ps = new ParameterSet();
    const head = new SentenceHead(K, ps, 'cls', 'classification', 3, style, dims(), new DropoutSites());
    ps.allocate('float64');
    randomizeParams(ps, 1);
    const hidden = randomFloat64(BATCH * S * H, 2);
    const rows = [2, 0];
    checkHead(ps, hidden, rows, (g) => sum(head.forward(input(hidden, rows, true, g), [1, 2]).losses), (d) => head.backward(d));
    assert.deepEqual(ps.entries.map((e) => e.name), style === 'electra'
      ? ['task_specific.cls.classifier.weight', 'task_specific.cls.classifier.bias']
      : ['task_specific.cls.classifier.dense.weight', 'task_specific.cls.classifier.dense.bias',
        'task_specific.cls.classifier.out_proj.weight', 'task_specific.cls.classifier.out_proj.bias']);
  });

  test(`SentenceHead (${style}): regression squared error matches finite differences`, () => {
    const ps = new ParameterSet();
    const head = new SentenceHead(K, ps, 'reg', 'regression', 1, style, dims(), new DropoutSites());
    ps.allocate('float64');
    randomizeParams(ps, 3);
    const hidden = randomFloat64(BATCH * S * H, 4);
    const rows = [1, 2, 0];
    checkHead(ps, hidden, rows, (g) => sum(head.forward(input(hidden, rows, true, g), [0.2, 0.9, 0.5]).losses), (d) => head.backward(d));
  });

  test(`TaggingHead (${style}): cross-entropy at labelled positions matches finite differences`, () => {
    const ps = new ParameterSet();
    const head = new TaggingHead(K, ps, 'tag', 4, style, dims(), new DropoutSites());
    ps.allocate('float64');
    randomizeParams(ps, 5);
    const hidden = randomFloat64(BATCH * S * H, 6);
    const rows = [0, 1];
    const targets = [{ positions: [1, 2, 5], labels: [3, 0, 1] }, { positions: [1, 3], labels: [2, 2] }];
    checkHead(ps, hidden, rows, (g) => sum(head.forward(input(hidden, rows, true, g), targets).losses), (d) => head.backward(d));
  });
}

for (const kind of ['classification', 'regression'] as const) {
  test(`SentenceHead (electra, summary_type mean): ${kind} loss, parameters and hidden states match finite differences (dropout on)`, () => {
    const ps = new ParameterSet();
    const head = new SentenceHead(K, ps, 'm', kind, kind === 'regression' ? 1 : 3, 'electra', dims(), new DropoutSites(), 'mean');
    ps.allocate('float64');
    randomizeParams(ps, 11);
    const hidden = randomFloat64(BATCH * S * H, 12);
    const rows = [1, 2];
    const targets = kind === 'regression' ? [0.3, 0.8] : [2, 0];
    checkHead(ps, hidden, rows, (g) => sum(head.forward(input(hidden, rows, true, g), targets).losses), (d) => head.backward(d));
  });
}

test('SentenceHead (summary_type mean): logits from the mean of the real tokens only (row 2 has 4 of 7)', () => {
  const ps = new ParameterSet();
  const head = new SentenceHead(K, ps, 't', 'classification', 2, 'electra', dims(), new DropoutSites(), 'mean');
  ps.allocate('float64');
  randomizeParams(ps, 9);
  const hidden = randomFloat64(BATCH * S * H, 10);
  const out = head.forward(input(hidden, [2], false, false), null);
  const w = head.output.weight.value;
  const b = head.output.bias!.value;
  for (const c of [0, 1]) {
    let logit = b[c]!;
    for (let h = 0; h < H; h++) {
      let mean = 0;
      for (let t = 0; t < 4; t++) mean += hidden[(2 * S + t) * H + h]! / 4;
      logit += w[c * H + h]! * mean;
    }
    assert.ok(Math.abs(out.logits[c]! - logit) < 1e-12, `logit ${c}: ${out.logits[c]} vs ${logit}`);
  }
  // Padding states do not count: changing them leaves the logits as they were.
  const before = Array.from(out.logits);
  for (let t = 4; t < S; t++) for (let h = 0; h < H; h++) hidden[(2 * S + t) * H + h] = 100;
  assert.deepEqual(Array.from(head.forward(input(hidden, [2], false, false), null).logits), before);
});

test('SentenceHead (electra): logits and loss by hand, no dropout at inference', () => {
  const ps = new ParameterSet();
  const head = new SentenceHead(K, ps, 't', 'classification', 2, 'electra', dims(), new DropoutSites());
  ps.allocate('float64');
  randomizeParams(ps, 7);
  const hidden = randomFloat64(BATCH * S * H, 8);
  const out = head.forward(input(hidden, [1], false, false), [1]);
  const w = head.output.weight.value;
  const b = head.output.bias!.value;
  const logits = [0, 1].map((c) => {
    let s = b[c]!;
    for (let h = 0; h < H; h++) s += w[c * H + h]! * hidden[1 * S * H + h]!; // [CLS] of row 1
    return s;
  });
  assert.ok(Math.abs(out.logits[0]! - logits[0]!) < 1e-12 && Math.abs(out.logits[1]! - logits[1]!) < 1e-12);
  const expected = Math.log(Math.exp(logits[0]!) + Math.exp(logits[1]!)) - logits[1]!;
  assert.ok(Math.abs(out.losses[0]! - expected) < 1e-12, `loss ${out.losses[0]} vs ${expected}`);
});

const QA_TARGETS: QaTargets[] = [
  { startPosition: 4, endPosition: 6, isImpossible: false },
  { startPosition: 0, endPosition: 0, isImpossible: true },
  { startPosition: 3, endPosition: 3, isImpossible: false },
];

const QA_VARIANTS: [string, ElectraQaOptions][] = [
  ['joint, answerability from start logits', {
    jointPrediction: true, beamSize: 3, answerableClassifier: true, answerableUsesStartLogits: true, answerableWeight: 0.5,
  }],
  ['joint, answerability on [CLS] only', {
    jointPrediction: true, beamSize: 3, answerableClassifier: true, answerableUsesStartLogits: false, answerableWeight: 0.7,
  }],
  ['independent start and end', {
    jointPrediction: false, beamSize: 3, answerableClassifier: true, answerableUsesStartLogits: true, answerableWeight: 0.5,
  }],
];

for (const [name, opts] of QA_VARIANTS) {
  test(`ElectraQaHead (${name}): loss, parameters and hidden states match finite differences`, () => {
    const ps = new ParameterSet();
    const head = new ElectraQaHead(K, ps, 'squad', opts, dims());
    ps.allocate('float64');
    randomizeParams(ps, 11, 0.2);
    const hidden = randomFloat64(BATCH * S * H, 12);
    const rows = [0, 1, 2];
    checkHead(ps, hidden, rows, (g) => sum(head.forward(input(hidden, rows, false, g), QA_TARGETS).losses), (d) => head.backward(d));
  });
}

test('ElectraQaHead: parameter names follow the reference layers', () => {
  const ps = new ParameterSet();
  new ElectraQaHead(K, ps, 'squad', QA_VARIANTS[0]![1], dims());
  assert.deepEqual(ps.entries.map((e) => [e.name, e.shape.join('x')]), [
    ['task_specific.squad.start_logits.weight', `1x${H}`], ['task_specific.squad.start_logits.bias', '1'],
    ['task_specific.squad.qa_hidden.weight', `512x${2 * H}`], ['task_specific.squad.qa_hidden.bias', '512'],
    ['task_specific.squad.qa_logits.weight', '1x512'], ['task_specific.squad.qa_logits.bias', '1'],
    ['task_specific.squad.answer_class_hidden.weight', `512x${2 * H}`], ['task_specific.squad.answer_class_hidden.bias', '512'],
    ['task_specific.squad.answer_class.weight', '1x512'], ['task_specific.squad.answer_class.bias', '1'],
  ]);
});

test('ElectraQaHead: masked positions, answerable loss by hand, inference beams agree with the training pass', () => {
  const opts: ElectraQaOptions = { ...QA_VARIANTS[0]![1], beamSize: 2 };
  const ps = new ParameterSet();
  const head = new ElectraQaHead(K, ps, 'squad', opts, dims());
  ps.allocate('float64');
  randomizeParams(ps, 13, 0.2);
  const hidden = randomFloat64(BATCH * S * H, 14);
  const rows = [1, 2];
  const inference = head.forward(input(hidden, rows, false, false), null);
  assert.equal(inference.results.length, 2);
  for (const [j, r] of inference.results.entries()) {
    const row = rows[j]!;
    const len = [7, 5, 4][row]!;
    // Only [CLS] and passage tokens (segment 1, real) can start an answer.
    assert.equal(r.startLogits!.length, len);
    for (let t = 1; t < Math.min(3, len); t++) assert.ok(r.startLogits![t]! < -900, `question token ${t} is masked`);
    assert.ok(r.startTopIndex!.every((t) => t === 0 || (t >= 3 && t < len)), `beam starts ${r.startTopIndex} are allowed positions`);
    assert.ok(r.startTopLogProbs!.every((lp, i) => i === 0 || lp <= r.startTopLogProbs![i - 1]!), 'starts sorted by log-probability');
    // Each (start, end) beam entry's log-probabilities are those the training pass scores for that span.
    for (const bj of [0, 1]) {
      const start = r.startTopIndex![bj]!;
      const end = r.endTopIndex![bj]![1]!;
      const answerLogit = r.answerableLogit!;
      const train = head.forward(input(hidden, [row], false, false), [{ startPosition: start, endPosition: end, isImpossible: false }]);
      const spanPart = train.losses[0]! - opts.answerableWeight * sigmoidCrossEntropy(answerLogit, 0);
      const expected = -(r.startTopLogProbs![bj]! + r.endTopLogProbs![bj]![1]!) / 2;
      assert.ok(Math.abs(spanPart - expected) < 1e-9, `span (${start}, ${end}): training loss ${spanPart} vs beam ${expected}`);
    }
  }
});

test('HfQaHead: (CE(start) + CE(end)) / 2 over real tokens matches finite differences; logits per real token at inference', () => {
  const ps = new ParameterSet();
  const head: QaHead = new HfQaHead(K, ps, 'qa', dims());
  ps.allocate('float64');
  randomizeParams(ps, 15);
  const hidden = randomFloat64(BATCH * S * H, 16);
  const rows = [2, 1];
  const targets = [QA_TARGETS[2]!, { startPosition: 4, endPosition: 4, isImpossible: false }];
  checkHead(ps, hidden, rows, (g) => sum(head.forward(input(hidden, rows, false, g), targets).losses), (d) => head.backward(d));
  assert.deepEqual(ps.entries.map((e) => e.name), ['task_specific.qa.qa_outputs.weight', 'task_specific.qa.qa_outputs.bias']);
  const out = head.forward(input(hidden, rows, false, false), null);
  assert.deepEqual(out.results.map((r) => [r.startLogits!.length, r.endLogits!.length]), [[4, 4], [5, 5]]);
});
