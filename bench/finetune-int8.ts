// `npm run bench -- finetune-int8 [--models DIR] [--work DIR] [--seed N]`: how far int8 inference
// (loadFinetuned(dir, { quantize: 'int8' })) moves a fine-tuned model's answers, at the demo's
// scale: brown_genre and brown_pos models (the demo's shape, data subsets, epochs and learning
// rates, from random initialisation with BERT's vocabulary) are fine-tuned into --work (reused
// when there; or taken from --models, a finetuning_models folder holding brown_genre_model_1 and
// brown_pos_model_1, e.g. a demo run's), then run in fp32 and in int8 on their dev sets: the share
// of examples / words whose prediction agrees, the score (accuracy) of each and its change, the
// cosine similarity of the logits (per example / word: mean, minimum; and over all of them), and
// examples/s of each. Ends with one JSON line.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brownGenreExamples, brownPosSentences } from '../src/finetune/data/brown.js';
import { loadFinetuned, type FinetunedModel, type PreparedInput } from '../src/finetune/inference.js';
import { demoFinetune, evenly, type DemoTask } from '../src/demo/finetune.js';
import { DEMO_SCALE } from '../src/demo/settings.js';
import { kernels } from '../src/kernels/index.js';
import { bertUncasedVocabText } from '../src/tokenizer/index.js';
import { printCpu } from './cpu.js';
import { table } from './util.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The logit rows of prepared inputs: one per example (classification) or per word (tagging). */
export function logitRows(model: FinetunedModel, inputs: readonly PreparedInput<unknown>[]): number[][] {
  const raw = model.runPrepared(inputs.map((p) => ({ items: p.items, finish: (outputs) => outputs })));
  return raw.flatMap((outputs) => outputs.flatMap((o) => (o.kind === 'classification' ? [o.logits] : o.kind === 'tagging' ? o.logits : [])));
}

/** How int8 logits compare with fp32 ones, with the gold label index of each row. */
export interface Int8Comparison {
  rows: number;
  /** Share of rows whose argmax agrees. */
  agreement: number;
  /** Accuracy (percent) against gold, fp32 and int8, and int8 - fp32 in points. */
  scoreFp32: number;
  scoreInt8: number;
  scoreDelta: number;
  cosineMean: number;
  cosineMin: number;
  /** Cosine of all rows concatenated. */
  cosineAll: number;
}

function cosine(a: readonly number[], b: readonly number[]): [number, number, number] {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  a.forEach((x, i) => {
    ab += x * b[i]!;
    aa += x * x;
    bb += b[i]! * b[i]!;
  });
  return [ab, aa, bb];
}

const argmax = (row: readonly number[]): number => row.reduce((best, v, i) => (v > row[best]! ? i : best), 0);

export function compareInt8(fp32: readonly number[][], int8: readonly number[][], gold: readonly number[]): Int8Comparison {
  if (fp32.length !== int8.length || fp32.length !== gold.length) throw new Error(`${fp32.length} fp32 rows, ${int8.length} int8 rows, ${gold.length} labels`);
  let agree = 0;
  let right32 = 0;
  let right8 = 0;
  let sum = 0;
  let min = 1;
  const all = [0, 0, 0];
  fp32.forEach((row, i) => {
    const [p32, p8] = [argmax(row), argmax(int8[i]!)];
    agree += p32 === p8 ? 1 : 0;
    right32 += p32 === gold[i] ? 1 : 0;
    right8 += p8 === gold[i] ? 1 : 0;
    const [ab, aa, bb] = cosine(row, int8[i]!);
    const c = ab / Math.sqrt(aa * bb);
    sum += c;
    min = Math.min(min, c);
    [all[0], all[1], all[2]] = [all[0]! + ab, all[1]! + aa, all[2]! + bb];
  });
  const n = fp32.length;
  const [s32, s8] = [(100 * right32) / n, (100 * right8) / n];
  return {
    rows: n, agreement: agree / n, scoreFp32: s32, scoreInt8: s8, scoreDelta: s8 - s32, cosineMean: sum / n, cosineMin: min,
    cosineAll: all[0]! / Math.sqrt(all[1]! * all[2]!),
  };
}

/** Dev inputs of a demo task, prepared with the model, and the gold label index of each logit row. */
function devSet(task: DemoTask, model: FinetunedModel): { inputs: PreparedInput<unknown>[]; gold: number[] } {
  const labels = model.selectTask(task).labels!;
  const index = (label: string): number => labels.indexOf(label);
  if (task === 'brown_genre') {
    const dev = evenly(brownGenreExamples('dev', DEMO_SCALE.genrePassageWords), DEMO_SCALE.genreDev);
    return { inputs: dev.map((e) => model.prepareClassification(e.textA, null, { truncation: 'longest_first' })), gold: dev.map((e) => index(String(e.label))) };
  }
  const dev = evenly(brownPosSentences('dev'), DEMO_SCALE.posDev);
  return { inputs: dev.map((s) => model.prepareTagging(s.words)), gold: dev.flatMap((s) => s.tags.map(index)) };
}

export async function run(): Promise<void> {
  const cpu = printCpu();
  const k = kernels();
  const seed = Number(arg('seed') ?? '1');
  let modelsDir = arg('models');
  if (!modelsDir) {
    const work = arg('work') ?? join(tmpdir(), 'electra-bench-finetune-int8');
    mkdirSync(work, { recursive: true });
    const vocabFile = join(work, 'vocab.txt');
    writeFileSync(vocabFile, bertUncasedVocabText());
    modelsDir = join(work, 'models', 'random-init', 'finetuning_models');
    for (const task of ['brown_genre', 'brown_pos'] as const) {
      if (existsSync(join(modelsDir, `${task}_model_1`, 'config.json'))) continue;
      console.log(`fine-tuning ${task} at the demo's scale (random initialisation) in ${work}`);
      const scale = { ...DEMO_SCALE, vocabSize: 30522 };
      const r = await demoFinetune(work, scale, task, { kind: 'random', modelName: 'random-init' }, vocabFile, 30522, seed, k, (l) => console.log(`  ${l}`));
      console.log(`  ${task}: ${JSON.stringify(r.metrics)} after ${r.trainSteps} updates, ${r.seconds.toFixed(0)} s`);
    }
  }
  const rows: Record<string, string | number>[] = [];
  const results: Record<string, unknown> = {};
  for (const task of ['brown_genre', 'brown_pos'] as const) {
    const dir = join(modelsDir, `${task}_model_1`);
    const fp32 = loadFinetuned(dir, { kernels: k, maxBatch: 32 });
    const int8 = loadFinetuned(dir, { kernels: k, maxBatch: 32, quantize: 'int8' });
    const { inputs, gold } = devSet(task, fp32);
    logitRows(fp32, inputs.slice(0, 32)); // warm-up: buffers and packed int8 weights
    logitRows(int8, inputs.slice(0, 32));
    let t0 = performance.now();
    const a = logitRows(fp32, inputs);
    const fp32Seconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const b = logitRows(int8, inputs);
    const int8Seconds = (performance.now() - t0) / 1000;
    const c = compareInt8(a, b, gold);
    results[task] = { ...c, examples: inputs.length, fp32_examples_per_s: inputs.length / fp32Seconds, int8_examples_per_s: inputs.length / int8Seconds };
    rows.push({
      task, unit: task === 'brown_pos' ? 'words' : 'examples', rows: c.rows, agree: `${(100 * c.agreement).toFixed(2)}%`,
      'fp32 score': c.scoreFp32.toFixed(2), 'int8 score': c.scoreInt8.toFixed(2), delta: c.scoreDelta.toFixed(2),
      'cos mean': c.cosineMean.toFixed(5), 'cos min': c.cosineMin.toFixed(5), 'cos all': c.cosineAll.toFixed(5),
      'fp32 ex/s': (inputs.length / fp32Seconds).toFixed(1), 'int8 ex/s': (inputs.length / int8Seconds).toFixed(1),
    });
  }
  console.log(table(rows));
  console.log(JSON.stringify({ bench: 'finetune-int8', ...cpu, models: modelsDir, ...results }));
}
