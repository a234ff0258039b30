// End to end on real data (issue #6): ELECTRA pre-trained for a fixed number of updates on the
// shipped Brown text (the fine-tuning dev documents held out), then fine-tuned on Brown
// part-of-speech tagging, beats the same fine-tuning from random initialisation on the dev split.
// Fixed seeds, the demo's code paths (corpus, vocabulary, dataset, hparams, fine-tuning) and its
// model shape; the fine-tuning is low-resource (100 tagged sentences), where a pre-trained model's
// knowledge of words the few labelled sentences never show is what the dev score measures.
//
// Measured (dev accuracy, 1500 sentences, fine-tuning seeds 1/2/3), pre-training seed 1:
// 64.13/62.64/63.50, seed 2: 63.24/63.66/63.65, seed 3: 62.77/63.12/62.74; random initialisation
// 60.79/61.11/61.03. The margin asserted (1.0) is below the smallest gap seen (1.53).
// Brown genre classification is not asserted: after 1200 updates no setting tried made the
// pre-trained model beat random initialisation there (with the demo's genre settings, 6 epochs at
// 3e-4: 21.4/21.6 from pre-training seed 1, 22.7 seed 2, 22.6 seed 3, against 25.7/21.8 from
// random initialisation); the demo's 7 minutes of pre-training get a small gain (README).
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildDataset, corpusDirs, trainVocab, writeCorpora } from '../../src/demo/data.js';
import { demoFinetune, finetuningHparamValues, type FinetuneSummary } from '../../src/demo/finetune.js';
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
};
const PRETRAIN_STEPS = 1200;
const SEED = 1;
const MARGIN = 1.0;

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

test('POS tagging: the pre-trained discriminator beats random initialisation on the dev split', async (t) => {
  const run = (init: Parameters<typeof demoFinetune>[3]): Promise<FinetuneSummary> =>
    demoFinetune(dir, SCALE, 'brown_pos', init, vocabFile, vocabSize, SEED, k, () => {}, silent);
  const electra = await run({ kind: 'electra', modelName: 'electra', checkpoint: discriminator });
  const random = await run({ kind: 'random', modelName: 'random-init' });
  // Same examples and schedule for both.
  assert.deepEqual([electra.trainExamples, electra.devExamples, electra.trainSteps], [SCALE.posTrain, SCALE.posDev, random.trainSteps]);
  assert.equal(random.devExamples, SCALE.posDev);
  const gain = electra.metrics['accuracy']! - random.metrics['accuracy']!;
  t.diagnostic(`dev accuracy: pre-trained ${electra.metrics['accuracy']!.toFixed(2)}, random init ${random.metrics['accuracy']!.toFixed(2)}`);
  assert.ok(gain >= MARGIN,
    `pre-trained ${electra.metrics['accuracy']!.toFixed(2)} vs random ${random.metrics['accuracy']!.toFixed(2)}: gain ${gain.toFixed(2)} < ${MARGIN}`);
});
