// `npm run bench -- finetune [--size small|base|large] [--steps N] [--cls-batch B] [--qa-batch B] [--profile]`:
// fine-tuning throughput of ELECTRA at the reference's settings: sequence classification at
// max_seq_length 128 and SQuAD-style QA (the reference's QA head, beam 20) at 384 tokens.
// Training: examples/s of full updates (forward, backward, clipping, layer-wise AdamW) and MFU
// (matmul FLOPs, 3x forward, against the best fp32 peak measured before and after); inference: examples/s without
// dropout (QA with its beam search), in fp32 and with int8 dynamic quantization of the same weights
// (loadFinetuned's quantize: "int8"), the two timed alternately: the int8 speedup.
import { loadavg } from 'node:os';
import { kernels, withPrecision, type Kernels } from '../src/kernels/index.js';
import { printCpu } from './cpu.js';
import { qaForwardFlops, sentenceForwardFlops, trainingFlops } from '../src/finetune/flops.js';
import { Rng } from '../src/nn/random.js';
import { resolveHparams } from '../src/finetune/hparams.js';
import { modelConfigFromHparams } from '../src/finetune/model/checkpoint.js';
import { FinetuningModel, type BatchItem, type HeadSpec } from '../src/finetune/model/finetuning-model.js';
import type { ElectraQaOptions } from '../src/finetune/qa/head.js';
import { AdamW, ELECTRA_ADAMW } from '../src/optim/adamw.js';
import { layerwiseLrScale } from '../src/finetune/layerwise-lr.js';
import { KernelProfiler } from './profile.js';
import { bestPeakGflops, table, timeAlternately } from './util.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const CLS = 101;
const SEP = 102;

/** Full-length pairs: [CLS] question/sentence A [SEP] passage/sentence B [SEP]. */
function syntheticItems(task: string, batch: number, seqLen: number, firstLength: number, rng: Rng, qa: boolean): BatchItem[] {
  return Array.from({ length: batch }, () => {
    const inputIds: number[] = [];
    const segmentIds: number[] = [];
    for (let p = 0; p < seqLen; p++) {
      const sep = p === firstLength || p === seqLen - 1;
      inputIds.push(p === 0 ? CLS : sep ? SEP : 1000 + rng.int(29000));
      segmentIds.push(p > firstLength ? 1 : 0);
    }
    const start = firstLength + 1 + rng.int(seqLen - firstLength - 12);
    const target = qa ? { startPosition: start, endPosition: start + rng.int(10), isImpossible: false } : rng.int(2);
    return { task, input: { inputIds, segmentIds }, target } as BatchItem;
  });
}

interface Measured {
  seconds: number;
}

function median(times: number[]): number {
  const s = [...times].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

function timeSteps(steps: number, fn: () => void): Measured {
  fn(); // warm-up: first touch of every buffer
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    fn();
    times.push((performance.now() - t0) / 1000);
  }
  return { seconds: median(times) };
}

export async function run(): Promise<void> {
  const size = arg('size', 'small') as 'small' | 'base' | 'large';
  const steps = Number(arg('steps', '3'));
  const clsBatch = Number(arg('cls-batch', '32'));
  const qaBatch = Number(arg('qa-batch', '32'));
  const profile = process.argv.includes('--profile');
  printCpu();
  const loadAtStart = loadavg()[0]!;
  const base = kernels();
  const profiler = new KernelProfiler(base);
  const k: Kernels = profile ? profiler.kernels : base;
  const hp = resolveHparams({ task_names: ['rte'], model_size: size }).hparams;
  const config = modelConfigFromHparams(hp);
  const peakBefore = bestPeakGflops();
  const qaOptions: ElectraQaOptions = {
    jointPrediction: true, beamSize: hp.beam_size, answerableClassifier: true, answerableUsesStartLogits: true, answerableWeight: 0.5,
  };
  const rng = new Rng(1);
  const measured: {
    name: string; batch: number; seqLen: number; train: Measured; infer: Measured; int8: Measured; trainFlops: number; inferFlops: number;
  }[] = [];

  const bench = (name: string, spec: HeadSpec, batch: number, seqLen: number, firstLength: number): void => {
    const model = new FinetuningModel(k, config, [spec], { maxBatch: batch, maxSeqLen: seqLen, qa: qaOptions });
    model.initialize(1);
    const optimizer = new AdamW(k, model.params, ELECTRA_ADAMW,
      (n) => layerwiseLrScale(n, { numLayers: config.num_hidden_layers, decay: hp.layerwise_lr_decay }));
    const qa = spec.kind === 'qa';
    const items = syntheticItems(spec.task, batch, seqLen, firstLength, rng, qa);
    let step = 0;
    profiler.reset();
    const train = timeSteps(steps, () => {
      model.params.zeroGrads();
      model.run(items, { training: true, stepSeed: step++, backward: true });
      optimizer.update(1e-4);
    });
    if (profile) report(`${name} training`, steps + 1);
    const inferItems = items.map((it) => ({ ...it, target: qa ? null : it.target }) as BatchItem);
    const quantized = new FinetuningModel(withPrecision(k, 'int8'), config, [spec], { maxBatch: batch, maxSeqLen: seqLen, qa: qaOptions });
    quantized.params.copyValuesFrom(model.params);
    profiler.reset();
    const [inferSeconds, int8Seconds] = timeAlternately(steps, () => {
      model.run(inferItems, { training: false, stepSeed: 0, backward: false });
    }, () => {
      quantized.run(inferItems, { training: false, stepSeed: 0, backward: false });
    });
    const infer = { seconds: inferSeconds };
    const int8 = { seconds: int8Seconds };
    if (profile) report(`${name} inference, fp32 and int8`, 2 * (steps + 1));
    // Training conditions the QA end logits on the gold start, inference on the beam's starts.
    const forward = qa ? qaForwardFlops(config, batch, seqLen, qaOptions, true) : sentenceForwardFlops(config, batch, seqLen, spec.numLabels);
    const inferFlops = qa ? qaForwardFlops(config, batch, seqLen, qaOptions, false) : forward;
    measured.push({ name, batch, seqLen, train, infer, int8, trainFlops: trainingFlops(forward), inferFlops });
  };

  const report = (what: string, calls: number): void => {
    const stats = profiler.report();
    console.log(`${what}: per call`);
    for (const s of stats.slice(0, 12)) console.log(`${(s.ms / calls).toFixed(1).padStart(8)} ms  ${s.name}`);
  };

  bench('classification', { task: 'cls', kind: 'classification', style: 'electra', numLabels: 2 }, clsBatch, 128, 63);
  bench('qa (squad)', { task: 'squad', kind: 'qa', style: 'electra', numLabels: 0 }, qaBatch, 384, 64);
  const peak = bestPeakGflops(peakBefore);
  const rows = measured.map((m) => ({
    workload: m.name, batch: m.batch, seq: m.seqLen,
    'train s/step': +m.train.seconds.toFixed(3),
    'train ex/s': +(m.batch / m.train.seconds).toFixed(1),
    'train MFU': +(m.trainFlops / m.train.seconds / 1e9 / peak).toFixed(3),
    'infer ex/s': +(m.batch / m.infer.seconds).toFixed(1),
    'infer MFU': +(m.inferFlops / m.infer.seconds / 1e9 / peak).toFixed(3),
    'int8 infer ex/s': +(m.batch / m.int8.seconds).toFixed(1),
    'int8 x fp32': +(m.infer.seconds / m.int8.seconds).toFixed(2),
  }));
  console.log(`ELECTRA-${size} fine-tuning on ${base.name}/${base.isa}/${base.threads} threads, measured peak ${peak.toFixed(1)} GFLOP/s`);
  console.log(table(rows));
  console.log(JSON.stringify({
    backend: `${base.name}/${base.isa}/${base.threads} threads`, model: `ELECTRA-${size}`, peakGflops: +peak.toFixed(1), workloads: rows,
    loadAverageAtStart: +loadAtStart.toFixed(2), loadAverageAtEnd: +loadavg()[0]!.toFixed(2),
  }));
}
