// `npm run bench -- bf16-curve [--updates N] [--dir D] [--seed S]`: issue 19's training-curve
// check. The demo's ELECTRA configuration (DEMO_SCALE) is pre-trained N updates (default 1000)
// in fp32 and in bf16 with the same seed and data; each final checkpoint is evaluated on the
// held-out Brown text in its own precision; the held-out discriminator AUC and generator
// (masked-LM) accuracy of the two runs should be within 0.01 of each other. The demo's corpus,
// vocabulary and datasets are built in D (default electra-bf16-curve) unless already there; a run
// already finished there (same updates and seed) is resumed at its end, i.e. only evaluated.
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { readManifest } from '../src/data/manifest.js';
import { buildDataset, corpusDirs, trainVocab, writeCorpora } from '../src/demo/data.js';
import { pretrainingHparamValues } from '../src/demo/pretrain.js';
import { DEMO_SCALE } from '../src/demo/settings.js';
import { kernels, type Precision } from '../src/kernels/index.js';
import { listCheckpoints, restoreCheckpoint } from '../src/pretrain/checkpoint.js';
import { resolvePretrainingHparams } from '../src/pretrain/hparams.js';
import { Pretrainer } from '../src/pretrain/pretrainer.js';
import { checkRunInputs, evaluate, runPretraining } from '../src/pretrain/run.js';
import { printCpu } from './cpu.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

function hasDataset(dir: string): boolean {
  try {
    readManifest(dir);
    return true;
  } catch {
    return false;
  }
}

async function prepareData(dir: string): Promise<number> {
  const dirs = corpusDirs(dir);
  const scale = DEMO_SCALE;
  if (!existsSync(dirs.vocab) || !hasDataset(dirs.pretrainData) || !hasDataset(dirs.heldoutData)) {
    console.log(`building the demo's corpus, vocabulary and datasets in ${dir}`);
    writeCorpora(dirs.corpus, dirs.heldout, scale);
    await trainVocab(dirs.corpus, dirs.vocab, scale.vocabSize);
    await buildDataset('dataset: pre-training', dirs.corpus, dirs.vocab, dirs.pretrainData, scale.maxSeqLength, 0);
    await buildDataset('dataset: held-out', dirs.heldout, dirs.vocab, dirs.heldoutData, scale.maxSeqLength, 0);
  }
  return readManifest(dirs.pretrainData).vocab.size;
}

interface CurveResult {
  precision: Precision;
  seconds: number;
  reused: boolean;
  heldoutDiscAuc: number;
  heldoutGeneratorAccuracy: number;
}

async function trainAndEvaluate(dir: string, vocabSize: number, precision: Precision, updates: number, seed: number): Promise<CurveResult> {
  const k = kernels();
  const values = {
    ...pretrainingHparamValues(DEMO_SCALE, 'electra', vocabSize, seed, updates),
    // One checkpoint, at the end: only the final model is evaluated.
    save_checkpoints_steps: updates,
    precision,
  };
  const hp = resolvePretrainingHparams(values, dir, `bf16-curve-${precision}-${updates}-${seed}`).hparams;
  const started = performance.now();
  const result = await runPretraining(hp, { kernels: k, log: () => {}, progress: false });
  const seconds = (performance.now() - started) / 1000;
  if (result.step !== updates) throw new Error(`${precision}: the run stopped at update ${result.step} of ${updates}`);
  const evalHp = { ...hp, pretrain_tfrecords: corpusDirs(dir).heldoutData };
  const ctx = checkRunInputs(evalHp);
  const trainer = new Pretrainer(k, evalHp, {
    maxBatch: hp.eval_batch_size, maxSeqLen: hp.max_seq_length, seed: hp.seed, special: ctx.special, precision,
  });
  const last = listCheckpoints(hp.model_dir).at(-1)!;
  restoreCheckpoint(last.dir, trainer.model, trainer.optimizer);
  const acc = evaluate(evalHp, trainer, ctx);
  const r = acc.results(last.step);
  return { precision, seconds, reused: result.resumedFrom === updates, heldoutDiscAuc: acc.exactAuc(), heldoutGeneratorAccuracy: r.masked_lm_accuracy };
}

export async function run(): Promise<void> {
  const cpu = printCpu();
  const updates = Number(arg('updates', '1000'));
  const seed = Number(arg('seed', '1'));
  const dir = arg('dir', 'electra-bf16-curve');
  if (!Number.isInteger(updates) || updates < 1) throw new Error(`--updates must be a positive integer, got ${arg('updates', '')}`);
  const loadAtStart = loadavg()[0]!;
  const vocabSize = await prepareData(dir);
  const results: CurveResult[] = [];
  for (const precision of ['fp32', 'bf16'] as const) {
    const r = await trainAndEvaluate(dir, vocabSize, precision, updates, seed);
    console.log(`${precision}: ${updates} updates ${r.reused ? '(the finished run found in the folder)' : `in ${r.seconds.toFixed(0)} s`}; held-out disc AUC ${r.heldoutDiscAuc.toFixed(4)}, ` +
      `generator accuracy ${r.heldoutGeneratorAccuracy.toFixed(4)}`);
    results.push(r);
  }
  const [fp32, bf16] = results as [CurveResult, CurveResult];
  const aucGap = Math.abs(bf16.heldoutDiscAuc - fp32.heldoutDiscAuc);
  const accGap = Math.abs(bf16.heldoutGeneratorAccuracy - fp32.heldoutGeneratorAccuracy);
  const within = aucGap <= 0.01 && accGap <= 0.01;
  console.log(`bf16 - fp32 after ${updates} updates: disc AUC ${aucGap.toFixed(4)}, generator accuracy ${accGap.toFixed(4)}: ` +
    `${within ? 'within' : 'NOT within'} 0.01`);
  console.log(JSON.stringify({
    ...cpu, loadAverageAtStart: +loadAtStart.toFixed(2), loadAverageAtEnd: +loadavg()[0]!.toFixed(2), updates, seed,
    fp32HeldoutDiscAuc: +fp32.heldoutDiscAuc.toFixed(4), bf16HeldoutDiscAuc: +bf16.heldoutDiscAuc.toFixed(4),
    fp32HeldoutGeneratorAccuracy: +fp32.heldoutGeneratorAccuracy.toFixed(4), bf16HeldoutGeneratorAccuracy: +bf16.heldoutGeneratorAccuracy.toFixed(4),
    discAucGap: +aucGap.toFixed(4), generatorAccuracyGap: +accGap.toFixed(4), withinTolerance: within,
    fp32Seconds: fp32.reused ? null : Math.round(fp32.seconds), bf16Seconds: bf16.reused ? null : Math.round(bf16.seconds),
  }));
}
