// End to end on real data (issue #6): ELECTRA pre-trained for a fixed number of updates on the
// shipped Brown text (the fine-tuning dev documents held out), then fine-tuned on Brown
// part-of-speech tagging and on Brown genre classification, beats the same fine-tuning from
// random initialisation on the dev split of each. Fixed seeds, the demo's code paths (corpus,
// vocabulary, dataset, hparams, fine-tuning) and its model shape; one pre-trained model for both
// tasks. Both fine-tunings are low-resource, where what a pre-trained model knows about words the
// few labelled examples never show is what the dev score measures: 100 tagged sentences; 400
// genre passages (15 genres, 45 words each) for 10 epochs at 3e-4, the paper's ELECTRA-Small rate.
//
// Measured, 3000 pre-training updates (pre-training seeds 1/2/3, fine-tuning seeds 1/2/3 each):
// POS dev accuracy (1500 sentences): 63.71/63.41/62.84, 63.40/63.46/64.23, 63.95/63.75/63.80;
// random initialisation 60.79/61.11/61.03. The margin asserted (1.0) is below the smallest gap (1.73).
// Genre dev accuracy (2000 passages): 22.85/22.65/23.15, 23.60/21.60/23.20, 23.00/21.95/23.60;
// random initialisation 19.50/20.15/18.65 (the majority genre is 15.8%). The margin asserted (1.0)
// is below the smallest gap (1.45: 21.60 against 20.15).
// Why 3000 updates: after 1200 (the earlier setting) pre-training did not help genre robustly (400
// passages: 21.95/19.25/21.1 from pre-training seed 1, 16.65/15.7/18.55 seed 2, 18.8/18.9/17.6
// seed 3, against 19.5/20.15/18.65); after 3000 it does. Random initialisation is not held back by
// the shared settings: 3e-4 is also its best genre rate of those tried (fine-tuning seed 1: 1e-4
// 15.90, 3e-4 19.50, 5e-4 13.75, 1e-3 15.25; 20 epochs at 3e-4: 13.80 on 1000 dev passages). The demo's own genre setting
// (2000 passages, 6 epochs) is noisier at this budget (21.4-23.6 against 21.8-25.7 after 1200 updates).
import { before, after, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildDataset, corpusDirs, trainVocab, writeCorpora } from '../../src/demo/data.js';
import { demoFinetune, finetuningHparamValues, type FinetuneSummary, type Init } from '../../src/demo/finetune.js';
import { pretrainingHparamValues } from '../../src/demo/pretrain.js';
import { DEMO_SCALE, type DemoScale } from '../../src/demo/settings.js';
import { resolveHparams } from '../../src/finetune/hparams.js';
import { loadWeights, modelConfigFromHparams, readFinetuningFolder } from '../../src/finetune/model/checkpoint.js';
import { FinetuningModel } from '../../src/finetune/model/finetuning-model.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { kernels } from '../../src/kernels/index.js';
import { listCheckpoints } from '../../src/pretrain/checkpoint.js';
import { resolvePretrainingHparams } from '../../src/pretrain/hparams.js';
import { runPretraining } from '../../src/pretrain/run.js';

/** The demo's model and pre-training settings; Brown's training documents as the only text (in-domain, and a quick vocabulary). */
const SCALE: DemoScale = {
  ...DEMO_SCALE,
  corpusDocs: { brown: null, sotu: 0, mobydick: 0 },
  heldoutDocs: 0,
  posTrain: 100,
  posDev: 1500,
  posEpochs: 20,
  posLearningRate: 1e-3,
  genreTrain: 400,
  genreDev: 2000,
  genreEpochs: 10,
  genreLearningRate: 3e-4,
};
const PRETRAIN_STEPS = 3000;
const SEED = 1;
/** Dev accuracy points the pre-trained model must gain on each task (below the smallest gap measured). */
const MARGIN: Record<'brown_pos' | 'brown_genre', number> = { brown_pos: 1.0, brown_genre: 1.0 };

const k = kernels();
const silent = new Writable({ write: (_c, _e, cb) => cb() });
let dir: string;
let vocabFile: string;
let vocabSize: number;
let discriminator: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'electra-e2e-'));
  const dirs = corpusDirs(dir);
  vocabFile = dirs.vocab;
  writeCorpora(dirs.corpus, dirs.heldout, SCALE, silent);
  vocabSize = await trainVocab(dirs.corpus, dirs.vocab, SCALE.vocabSize, silent);
  await buildDataset('dataset', dirs.corpus, dirs.vocab, dirs.pretrainData, SCALE.maxSeqLength, 0, silent);
  const values = { ...pretrainingHparamValues(SCALE, 'electra', vocabSize, SEED, PRETRAIN_STEPS), save_checkpoints_steps: PRETRAIN_STEPS };
  const hp = resolvePretrainingHparams(values, dir, 'electra').hparams;
  const result = await runPretraining(hp, { kernels: k, log: () => {}, progress: false });
  assert.equal(result.step, PRETRAIN_STEPS);
  const checkpoints = listCheckpoints(hp.model_dir);
  discriminator = join(checkpoints[checkpoints.length - 1]!.dir, 'discriminator');
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('fine-tuning starts from every tensor of the pre-trained discriminator, with its vocabulary', () => {
  const init = { kind: 'electra' as const, modelName: 'check', checkpoint: discriminator };
  const values = { ...finetuningHparamValues(SCALE, 'brown_pos', init, vocabFile, vocabSize, SEED), data_dir: dir, model_name: 'check' };
  const hp = resolveHparams(values, 'e2e').hparams;
  const model = new FinetuningModel(k, modelConfigFromHparams(hp), [{ task: 'brown_pos', kind: 'tagging', style: 'electra', numLabels: 3 }], { maxBatch: 2, maxSeqLen: 64 });
  model.initialize(SEED);
  const fresh = model.params.entries.map((e) => Float32Array.from(e.value));
  loadWeights(model, readFinetuningFolder(discriminator));
  const saved = readSafetensors(join(discriminator, 'model.safetensors')).tensors;
  const encoder = model.params.entries.filter((e) => e.name.startsWith('electra.'));
  // Word, position and token-type embeddings, their LayerNorm, and 16 tensors per layer.
  assert.equal(encoder.length, 5 + 16 * SCALE.numLayers);
  for (const name of ['electra.embeddings.word_embeddings.weight', 'electra.embeddings.position_embeddings.weight',
    'electra.embeddings.token_type_embeddings.weight', 'electra.embeddings.LayerNorm.weight', 'electra.embeddings.LayerNorm.bias']) {
    assert.ok(encoder.some((e) => e.name === name), name);
  }
  model.params.entries.forEach((e, i) => {
    if (!e.name.startsWith('electra.')) return;
    const t = saved.get(e.name);
    assert.ok(t, `${e.name} is in the pre-trained discriminator`);
    assert.deepEqual(Array.from(e.value), Array.from(t.data), `${e.name} holds the pre-trained values`);
    // Pre-training moved every tensor away from an initialisation (LayerNorm's ones and zeros included).
    assert.ok(e.value.some((v, j) => v !== fresh[i]![j]), `${e.name} differs from a fresh initialisation`);
  });
  // The tokenizer fine-tuning builds reads the pre-training vocabulary, the one the checkpoint carries.
  assert.equal(readFileSync(join(discriminator, 'vocab.txt'), 'utf8'), readFileSync(vocabFile, 'utf8'));
});

async function compare(t: TestContext, task: 'brown_pos' | 'brown_genre', train: number, dev: number): Promise<void> {
  const run = (init: Init): Promise<FinetuneSummary> => demoFinetune(dir, SCALE, task, init, vocabFile, vocabSize, SEED, k, () => {}, silent);
  const electra = await run({ kind: 'electra', modelName: 'electra', checkpoint: discriminator });
  const random = await run({ kind: 'random', modelName: 'random-init' });
  // Same examples and schedule for both.
  assert.deepEqual([electra.trainExamples, electra.devExamples, electra.trainSteps], [train, dev, random.trainSteps]);
  assert.deepEqual([random.trainExamples, random.devExamples], [train, dev]);
  const [a, b] = [electra.metrics['accuracy']!, random.metrics['accuracy']!];
  t.diagnostic(`${task} dev accuracy: pre-trained ${a.toFixed(2)}, random init ${b.toFixed(2)}`);
  assert.ok(a - b >= MARGIN[task], `${task}: pre-trained ${a.toFixed(2)} vs random ${b.toFixed(2)}: gain ${(a - b).toFixed(2)} < ${MARGIN[task]}`);
}

test('POS tagging: the pre-trained discriminator beats random initialisation on the dev split', (t) =>
  compare(t, 'brown_pos', SCALE.posTrain, SCALE.posDev));

test('genre classification: the pre-trained discriminator beats random initialisation on the dev split', (t) =>
  compare(t, 'brown_genre', SCALE.genreTrain, SCALE.genreDev));
