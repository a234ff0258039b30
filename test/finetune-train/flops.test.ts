// The analytic FLOP counts behind the fine-tuning MFU figures equal the GEMM FLOPs the model
// really issues, counted at the kernels, for training updates and inference batches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsKernels } from '../../src/kernels/index.js';
import { qaForwardFlops, sentenceForwardFlops, trainingFlops, type QaFlopOptions } from '../../src/finetune/flops.js';
import { FinetuningModel, type BatchItem, type HeadSpec } from '../../src/finetune/model/finetuning-model.js';
import { Rng } from '../../src/nn/random.js';
import { KernelProfiler } from '../../bench/profile.js';
import { ENCODER } from './fixtures.js';

const BATCH = 3;
const SEQ = 24;
const FIRST = 7;

/** Full-length pairs (no padding): [CLS] A [SEP] B [SEP]. */
function items(task: string, qa: boolean, rng: Rng): BatchItem[] {
  return Array.from({ length: BATCH }, (_, i) => {
    const inputIds: number[] = [];
    const segmentIds: number[] = [];
    for (let p = 0; p < SEQ; p++) {
      inputIds.push(p === 0 ? 101 : p === FIRST || p === SEQ - 1 ? 102 : 1000 + rng.int(5000));
      segmentIds.push(p > FIRST ? 1 : 0);
    }
    const target = qa ? { startPosition: FIRST + 2 + i, endPosition: FIRST + 4 + i, isImpossible: i === 0 } : i % 2;
    return { task, input: { inputIds, segmentIds }, target } as BatchItem;
  });
}

function countedFlops(spec: HeadSpec, qa: QaFlopOptions | undefined, training: boolean): number {
  const profiler = new KernelProfiler(jsKernels, false);
  const model = new FinetuningModel(profiler.kernels, ENCODER, [spec], {
    maxBatch: BATCH, maxSeqLen: SEQ, ...(qa ? { qa: { ...qa, answerableWeight: 0.5 } } : {}),
  });
  model.initialize(1);
  const batch = items(spec.task, spec.kind === 'qa', new Rng(3));
  const run = training ? batch : batch.map((it) => ({ ...it, target: spec.kind === 'qa' ? null : it.target }) as BatchItem);
  profiler.reset();
  model.run(run, { training, stepSeed: 1, backward: training });
  return profiler.report().reduce((s, x) => s + x.flops, 0);
}

test('classification FLOPs: training = 3 x forward, inference = forward, as issued at the kernels', () => {
  const spec: HeadSpec = { task: 'cls', kind: 'classification', style: 'electra', numLabels: 3 };
  const forward = sentenceForwardFlops(ENCODER, BATCH, SEQ, 3);
  assert.equal(countedFlops(spec, undefined, false), forward);
  assert.equal(countedFlops(spec, undefined, true), trainingFlops(forward));
});

const QA_VARIANTS: QaFlopOptions[] = [
  { jointPrediction: true, beamSize: 5, answerableClassifier: true, answerableUsesStartLogits: true },
  { jointPrediction: true, beamSize: 40, answerableClassifier: false, answerableUsesStartLogits: true },
  { jointPrediction: false, beamSize: 5, answerableClassifier: true, answerableUsesStartLogits: false },
];

for (const qa of QA_VARIANTS) {
  test(`QA FLOPs (${JSON.stringify(qa)}): training with the gold start, inference with the beam, as issued at the kernels`, () => {
    const spec: HeadSpec = { task: 'squad', kind: 'qa', style: 'electra', numLabels: 0 };
    assert.equal(countedFlops(spec, qa, false), qaForwardFlops(ENCODER, BATCH, SEQ, qa, false));
    assert.equal(countedFlops(spec, qa, true), trainingFlops(qaForwardFlops(ENCODER, BATCH, SEQ, qa, true)));
  });
}
