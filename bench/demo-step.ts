// `npm run bench -- demo-step [--steps N] [--rounds R]`: milliseconds per pre-training update at
// the demo's scale (DEMO_SCALE: 2 x 128 model, batches of 16 x 64 tokens), ELECTRA and masked LM,
// fp32 and bf16, on full-length synthetic batches. The four trainers run in one process, a few
// updates each in turn for R rounds, and each keeps its fastest round's median: a burst of other
// work on the machine slows all four alike. What `npm run experiment -- --ms-per-update` wants
// for a recipe that sets `precision`: the bf16 figure is the fp32 one divided by the ratio here.
import { pretrainingHparamValues, type Objective } from '../src/demo/pretrain.js';
import { DEMO_SCALE } from '../src/demo/settings.js';
import { bf16SpeedNote, kernels, type Precision } from '../src/kernels/index.js';
import { BERT_SPECIAL_IDS } from '../src/model/masking.js';
import type { PretrainingInputs } from '../src/model/pretraining-model.js';
import { Rng } from '../src/nn/random.js';
import { resolvePretrainingHparams } from '../src/pretrain/hparams.js';
import { Pretrainer } from '../src/pretrain/pretrainer.js';
import { printCpu } from './cpu.js';
import { table } from './util.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

function syntheticBatch(batch: number, seqLen: number, vocab: number, rng: Rng): PretrainingInputs {
  const inputIds = new Int32Array(batch * seqLen);
  for (let i = 0; i < inputIds.length; i++) {
    const p = i % seqLen;
    inputIds[i] = p === 0 ? BERT_SPECIAL_IDS.cls : p === seqLen - 1 ? BERT_SPECIAL_IDS.sep : 1000 + rng.int(vocab - 1000);
  }
  return { inputIds, segmentIds: new Int32Array(batch * seqLen), inputMask: new Int32Array(batch * seqLen).fill(1), batch, seqLen };
}

const median = (v: number[]): number => [...v].sort((x, y) => x - y)[v.length >> 1]!;

export async function run(): Promise<void> {
  const steps = Number(arg('steps', '40'));
  const rounds = Number(arg('rounds', '5'));
  if (!(Number.isInteger(steps) && steps > 0 && Number.isInteger(rounds) && rounds > 0)) throw new Error('--steps and --rounds must be positive integers');
  const cpu = printCpu();
  const k = kernels();
  const scale = DEMO_SCALE;
  const vocabSize = scale.vocabSize;
  const rng = new Rng(2);
  const data = [0, 1].map(() => syntheticBatch(scale.trainBatchSize, scale.maxSeqLength, vocabSize, rng));
  const cases = (['electra', 'mlm'] as Objective[]).flatMap((objective) => (['fp32', 'bf16'] as Precision[]).map((precision) => {
    const values = { ...pretrainingHparamValues(scale, objective, vocabSize, 1, 1000), precision };
    const hp = resolvePretrainingHparams(values, '.', 'demo-step').hparams;
    const trainer = new Pretrainer(k, hp, { maxBatch: hp.train_batch_size, maxSeqLen: hp.max_seq_length, seed: 1, precision });
    for (let i = 0; i < 3; i++) trainer.trainStep(data[i % 2]!);  // first touch of every buffer
    return { objective, precision, trainer, best: Infinity };
  }));
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      const times: number[] = [];
      for (let i = 0; i < steps; i++) {
        const t0 = performance.now();
        c.trainer.trainStep(data[i % 2]!);
        times.push(performance.now() - t0);
      }
      c.best = Math.min(c.best, median(times));
    }
  }
  const ms = (o: Objective, p: Precision): number => cases.find((c) => c.objective === o && c.precision === p)!.best;
  console.log(`demo-scale pre-training update (${scale.numLayers} x ${scale.hiddenSize}, batch ${scale.trainBatchSize} x ${scale.maxSeqLength}), ` +
    `${k.name}/${k.isa}/${k.threads} threads; fastest of ${rounds} rounds' medians over ${steps} updates`);
  console.log(table(cases.map((c) => ({ objective: c.objective, precision: c.precision, 'ms/update': c.best, 'x fp32': ms(c.objective, 'fp32') / c.best }))));
  const note = bf16SpeedNote(k);
  if (note) console.log(note);
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  console.log(JSON.stringify({
    ...cpu, backend: `${k.name}/${k.isa}/${k.threads}`, steps, rounds,
    electra_fp32_ms: round(ms('electra', 'fp32')), electra_bf16_ms: round(ms('electra', 'bf16')),
    electra_bf16_speedup: round(ms('electra', 'fp32') / ms('electra', 'bf16')),
    mlm_fp32_ms: round(ms('mlm', 'fp32')), mlm_bf16_ms: round(ms('mlm', 'bf16')),
    mlm_bf16_speedup: round(ms('mlm', 'fp32') / ms('mlm', 'bf16')),
  }));
}
