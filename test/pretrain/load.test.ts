// Loading: checkpoints and HF folders into the pre-training model and the inference discriminator,
// and init_checkpoint from a reference TF checkpoint converted with `electra convert` (generator and
// discriminator), as when continuing pre-training from Google's release.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { TfCheckpoint } from '../../src/io/tf-checkpoint.js';
import { convertTfCheckpoint } from '../../src/io/tf-electra.js';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { writeHfFolder } from '../../src/io/hf-folder.js';
import { hfConfigFor, hfTensors } from '../../src/pretrain/hf-weights.js';
import { jsKernels } from '../../src/kernels/index.js';
import { Pretrainer } from '../../src/pretrain/pretrainer.js';
import { resolvePretrainingHparams } from '../../src/pretrain/hparams.js';
import { loadDiscriminator, loadInitCheckpoint, loadPretrainingModel, readPretrainedFolders } from '../../src/pretrain/load.js';
import { runPretraining } from '../../src/pretrain/run.js';
import { buildTensorBundle, f32Bytes, type BundleTensor } from '../io/builders.js';
import { randomArray } from '../helpers.js';
import { makeTinyDataDir, tinyHparams, type TinyDataDir } from './fixtures.js';

let data: TinyDataDir;
let modelDir: string;
const quiet = { progress: false, log: (): void => {} };

before(async () => {
  data = await makeTinyDataDir('load');
  const hp = resolvePretrainingHparams(tinyHparams(data.vocab.length, { num_train_steps: 8 }), data.dataDir, 'trained').hparams;
  await runPretraining(hp, quiet);
  modelDir = hp.model_dir;
});
after(() => data.cleanup());

const ids = [2, 5, 13, 30, 25, 3, 6, 19, 28, 20, 3];

test('a model dir loads its newest checkpoint; the inference discriminator equals the pre-training one', () => {
  const source = readPretrainedFolders(modelDir);
  assert.equal(source.step, 8);
  assert.match(source.dir, /checkpoint-8$/);
  const loaded = loadPretrainingModel(modelDir, { maxBatch: 2, maxSeqLen: 16 });
  assert.equal(loaded.step, 8);
  assert.deepEqual(loaded.report.notLoaded, []);
  assert.equal(loaded.config.mask_prob, 0.15);
  assert.equal(loaded.model.generatorConfig.hidden_size, 16);
  // Same weights as the checkpoint's folders (shared embeddings once).
  assert.deepEqual(loaded.model.params.get('electra.embeddings.word_embeddings.weight').value,
    source.discriminator!.tensors.get('electra.embeddings.word_embeddings.weight')!.data);

  const disc = loadDiscriminator(modelDir, { maxBatch: 2, maxSeqLen: 16 });
  const [r] = disc.discriminate([ids]);
  assert.equal(r!.probs.length, ids.length);
  assert.equal(r!.hidden.length, ids.length * 32);
  // The pre-training model's discriminator on the same tokens, no dropout.
  const m = loaded.model;
  const S = ids.length;
  const hidden = m.discriminator!.forward(Int32Array.from(ids), new Int32Array(S), new Int32Array(S).fill(1), 1, S, m.discriminator!.dropout(false, 0));
  const logits = m.discriminatorHead!.forward(hidden, S);
  for (let i = 0; i < S; i++) {
    assert.ok(Math.abs(r!.logits[i]! - logits[i]!) < 1e-5, `logit ${i}: ${r!.logits[i]} vs ${logits[i]}`);
    assert.ok(Math.abs(r!.probs[i]! - 1 / (1 + Math.exp(-logits[i]!))) < 1e-6);
  }
  // Batching and padding do not change a sequence's result.
  const batched = disc.discriminate([ids.slice(0, 5), ids, [2, 3]]);
  assertCloseArrays(batched[1]!.probs, r!.probs, 1e-5, 'padded in a batch');
  assert.equal(batched[0]!.probs.length, 5);
  // Text goes through the folder's vocabulary.
  const text = disc.discriminateText('the big cat sees a dog .');
  assert.deepEqual(text.tokens, ['[CLS]', 'the', 'big', 'cat', 'sees', 'a', 'dog', '.', '[SEP]']);
  assert.equal(text.probs.length, 9);
  assert.throws(() => disc.discriminate([[2, 999]]), /token id 999 is outside the vocabulary/);
  // Longer than maxSeqLen grows the buffers; longer than max_position_embeddings is refused.
  assert.equal(disc.discriminate([new Array<number>(17).fill(5)])[0]!.probs.length, 17);
  assert.throws(() => disc.discriminate([new Array<number>(65).fill(5)]), /65 tokens; the model takes at most 64/);
});

test('an HF ElectraForPreTraining folder loads for inference; other classes are refused', () => {
  const hfDir = join(data.dataDir, 'hf-disc');
  cpSync(join(modelDir, 'checkpoint-8', 'discriminator'), hfDir, { recursive: true });
  const a = loadDiscriminator(hfDir, { maxSeqLen: 16 }).discriminate([ids])[0]!;
  const b = loadDiscriminator(modelDir, { maxSeqLen: 16 }).discriminate([ids])[0]!;
  assert.deepEqual(a.probs, b.probs);
  assert.throws(() => loadDiscriminator(join(modelDir, 'checkpoint-8', 'generator')), /has no discriminator/);
  assert.throws(() => loadPretrainingModel(hfDir), /has no generator/);
  assert.throws(() => loadDiscriminator(join(data.dataDir, 'pretrain_tfrecords')), /holds no model/);
});

/** Reference TF variables for the tiny hparams' two models (kernels [in, out]), as run_pretraining.py saves them. */
function tfVariables(V: number): Map<string, { shape: number[]; data: Float32Array }> {
  const vars = new Map<string, { shape: number[]; data: Float32Array }>();
  let seed = 100;
  const add = (name: string, shape: number[]): void => {
    vars.set(name, { shape, data: randomArray(shape.reduce((x, y) => x * y, 1), seed++, 0.1) });
  };
  const E = 16;
  add('electra/embeddings/word_embeddings', [V, E]);
  add('electra/embeddings/position_embeddings', [64, E]);
  add('electra/embeddings/token_type_embeddings', [2, E]);
  add('electra/embeddings/LayerNorm/gamma', [E]);
  add('electra/embeddings/LayerNorm/beta', [E]);
  for (const [scope, H] of [['electra', 32], ['generator', 16]] as const) {
    if (H !== E) {
      add(`${scope}/embeddings_project/kernel`, [E, H]);
      add(`${scope}/embeddings_project/bias`, [H]);
    }
    for (let l = 0; l < 2; l++) {
      const p = `${scope}/encoder/layer_${l}`;
      for (const m of ['query', 'key', 'value']) {
        add(`${p}/attention/self/${m}/kernel`, [H, H]);
        add(`${p}/attention/self/${m}/bias`, [H]);
      }
      add(`${p}/attention/output/dense/kernel`, [H, H]);
      add(`${p}/attention/output/dense/bias`, [H]);
      add(`${p}/attention/output/LayerNorm/gamma`, [H]);
      add(`${p}/attention/output/LayerNorm/beta`, [H]);
      // intermediate_size 64 in both (the tiny hparams' override; the generator's 4 x 16).
      add(`${p}/intermediate/dense/kernel`, [H, 64]);
      add(`${p}/intermediate/dense/bias`, [64]);
      add(`${p}/output/dense/kernel`, [64, H]);
      add(`${p}/output/dense/bias`, [H]);
      add(`${p}/output/LayerNorm/gamma`, [H]);
      add(`${p}/output/LayerNorm/beta`, [H]);
    }
  }
  add('discriminator_predictions/dense/kernel', [32, 32]);
  add('discriminator_predictions/dense/bias', [32]);
  add('discriminator_predictions/dense_1/kernel', [32, 1]);
  add('discriminator_predictions/dense_1/bias', [1]);
  add('generator_predictions/dense/kernel', [16, E]);
  add('generator_predictions/dense/bias', [E]);
  add('generator_predictions/LayerNorm/gamma', [E]);
  add('generator_predictions/LayerNorm/beta', [E]);
  add('generator_predictions/output_bias', [V]);
  return vars;
}

async function quietMain(args: string[]): Promise<number> {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await main(args);
  } finally {
    process.stdout.write = write;
  }
}

test('init_checkpoint: a reference TF checkpoint converted with `electra convert` continues pre-training', async () => {
  const V = data.vocab.length;
  const tfDir = join(data.dataDir, 'tf-release');
  mkdirSync(tfDir);
  const vars = tfVariables(V);
  const tensors: BundleTensor[] = [];
  for (const [name, v] of vars) {
    tensors.push({ name, dtype: 'float32', shape: v.shape, bytes: f32Bytes(v.data) });
    tensors.push({ name: `${name}/adam_m`, dtype: 'float32', shape: v.shape, bytes: f32Bytes(v.data) });
  }
  const bundle = buildTensorBundle(tensors);
  writeFileSync(join(tfDir, 'model.ckpt-100.index'), bundle.index);
  writeFileSync(join(tfDir, 'model.ckpt-100.data-00000-of-00001'), bundle.data);
  writeFileSync(join(tfDir, 'vocab.txt'), data.vocab.join('\n') + '\n');
  const init = join(data.dataDir, 'converted');
  const prefix = join(tfDir, 'model.ckpt-100');
  assert.equal(await quietMain(['convert', '--tf-checkpoint', prefix, '--output-dir', join(init, 'discriminator'), '--num-attention-heads', '2']), 0);
  assert.equal(await quietMain(['convert', '--tf-checkpoint', prefix, '--output-dir', join(init, 'generator'), '--generator']), 0);

  // Loaded into a fresh model: every parameter from the TF variables (kernels transposed).
  const hp = resolvePretrainingHparams(tinyHparams(V, { init_checkpoint: init, num_train_steps: 4 }), data.dataDir, 'continued').hparams;
  const trainer = new Pretrainer(jsKernels, hp, { maxBatch: 4, maxSeqLen: 32, seed: 1 });
  const report = loadInitCheckpoint(init, trainer.model, data.vocab);
  assert.deepEqual(report.notLoaded, []);
  assert.deepEqual(report.differing, []);
  const ps = trainer.model.params;
  assert.deepEqual(ps.get('electra.embeddings.word_embeddings.weight').value, vars.get('electra/embeddings/word_embeddings')!.data);
  const kernel = vars.get('generator/encoder/layer_1/intermediate/dense/kernel')!; // [16, 64] -> weight [64, 16]
  const weight = ps.hfStateDict('generator').find((e) => e.name === 'electra.encoder.layer.1.intermediate.dense.weight')!.ref.value;
  assert.equal(weight[5 * 16 + 3], kernel.data[3 * 64 + 5]);
  const bias = ps.hfStateDict('generator').find((e) => e.name === 'generator_lm_head.bias')!.ref.value;
  assert.deepEqual(bias, vars.get('generator_predictions/output_bias')!.data);

  // The run starts from them at step 0 and trains.
  const lines: string[] = [];
  const r = await runPretraining(hp, { progress: false, log: (l) => lines.push(l) });
  assert.equal(r.resumedFrom, 0);
  assert.equal(r.step, 4);
  assert.match(lines.join('\n'), new RegExp(`initialized from .*converted: ${ps.entries.length} parameters loaded`));

  // A generator of another size, or another vocabulary, is refused with what to change.
  const wrongGen = resolvePretrainingHparams(tinyHparams(V, { init_checkpoint: init, generator_hidden_size: 0.25 }), data.dataDir, 'x').hparams;
  await assert.rejects(runPretraining(wrongGen, quiet), /generator does not fit the hparams: "hidden_size" is 16 here but the hparams give 8 \(for this generator set "generator_hidden_size": 0\.5 and "generator_layers": 1\)/);
  assert.equal(existsSync(join(data.dataDir, 'models', 'x', 'checkpoint-4')), false);
  const otherVocab = join(data.dataDir, 'other-vocab');
  cpSync(join(init, 'discriminator'), otherVocab, { recursive: true });
  writeFileSync(join(otherVocab, 'vocab.txt'), [...data.vocab.slice(0, -1), '[unused9]'].join('\n') + '\n');
  const t2 = new Pretrainer(jsKernels, hp, { maxBatch: 1, maxSeqLen: 8, seed: 1 });
  assert.throws(() => loadInitCheckpoint(otherVocab, t2.model, data.vocab), /token \d+ is "\[unused9\]" but the run's vocabulary has "\[unused0\]" there/);

  // A discriminator alone: the generator's own parameters keep their fresh initialization.
  const t3 = new Pretrainer(jsKernels, hp, { maxBatch: 1, maxSeqLen: 8, seed: 1 });
  const alone = loadInitCheckpoint(join(init, 'discriminator'), t3.model, data.vocab);
  assert.ok(alone.notLoaded.length > 0 && alone.notLoaded.every((n) => n.startsWith('generator')), alone.notLoaded.join(', '));
  // An HF folder of another class is refused.
  const base = join(data.dataDir, 'base-model');
  const body = new Map([...hfTensors(t3.model.params, 'discriminator')].filter(([name]) => name.startsWith('electra.')));
  writeHfFolder(base, { config: { ...hfConfigFor(t3.model.discriminatorConfig!, 'discriminator'), architectures: ['ElectraModel'] }, tensors: body });
  assert.throws(() => loadInitCheckpoint(base, t3.model, data.vocab), /is an ElectraModel; pre-training loads ElectraForPreTraining/);
});

test('Google\'s release as shipped: a TF checkpoint with vocab.txt in the model dir is converted on first use, reused, and trains', async () => {
  const V = data.vocab.length;
  const release = join(data.dataDir, 'models', 'released');
  mkdirSync(release, { recursive: true });
  const vars = tfVariables(V);
  const bundle = buildTensorBundle([...vars].map(([name, v]) => ({ name, dtype: 'float32' as const, shape: v.shape, bytes: f32Bytes(v.data) })));
  writeFileSync(join(release, 'electra_small.index'), bundle.index);
  writeFileSync(join(release, 'electra_small.data-00000-of-00001'), bundle.data);
  writeFileSync(join(release, 'checkpoint'), 'model_checkpoint_path: "/gcs/somewhere/electra_small"\n');
  writeFileSync(join(release, 'vocab.txt'), data.vocab.join('\n') + '\n');

  const hp = resolvePretrainingHparams(tinyHparams(V, { num_train_steps: 2, save_checkpoints_steps: 2 }), data.dataDir, 'released').hparams;
  const lines: string[] = [];
  const r = await runPretraining(hp, { progress: false, log: (l) => lines.push(l) });
  assert.equal(r.step, 2);
  const notices = lines.filter((l) => l.startsWith('converted the TensorFlow checkpoint'));
  assert.equal(notices.length, 1, lines.join('\n'));
  assert.match(notices[0]!, /released\/electra_small \(hidden_size 32, 2 layers, 2 heads, vocab \d+\) into .*released\/discriminator and .*released\/generator; later runs reuse them/);
  assert.match(lines.join('\n'), /initialized from .*released: \d+ parameters loaded/);
  assert.ok(existsSync(join(release, 'discriminator', 'config.json')) && existsSync(join(release, 'generator', 'config.json')));

  // Reused: the prefix as init_checkpoint loads the same weights without converting again.
  const trainer = new Pretrainer(jsKernels, hp, { maxBatch: 1, maxSeqLen: 8, seed: 3 });
  const again: string[] = [];
  const report = loadInitCheckpoint(join(release, 'electra_small'), trainer.model, data.vocab, (l) => again.push(l));
  assert.equal(again.length, 0);
  assert.deepEqual(report.notLoaded, []);
  assert.deepEqual(trainer.model.params.get('electra.embeddings.word_embeddings.weight').value, vars.get('electra/embeddings/word_embeddings')!.data);
  // A replaced checkpoint is converted again.
  const later = new Date(Date.now() + 5000);
  utimesSync(join(release, 'electra_small.index'), later, later);
  loadInitCheckpoint(release, trainer.model, data.vocab, (l) => again.push(l));
  assert.equal(again.length, 1);
});

test('`electra convert --to tf` writes the reference\'s variable names; read back, they are the same model', async () => {
  const out = join(data.dataDir, 'to-tf');
  assert.equal(await quietMain(['convert', '--to', 'tf', '--model', modelDir, '--output-dir', out]), 0);
  assert.ok(existsSync(join(out, 'checkpoint')) && existsSync(join(out, 'model.ckpt.data-00000-of-00001')));
  const ckpt = new TfCheckpoint(out);
  const names = [...ckpt.entries.keys()];
  for (const n of ['electra/embeddings/word_embeddings', 'electra/embeddings_project/kernel', 'electra/encoder/layer_1/attention/self/query/kernel',
    'discriminator_predictions/dense_1/kernel', 'generator/encoder/layer_0/attention/self/key/bias', 'generator/encoder/layer_0/output/LayerNorm/gamma',
    'generator_predictions/output_bias', 'generator_predictions/LayerNorm/beta']) assert.ok(names.includes(n), n);
  // Shared embeddings are written once; no HF-only names.
  assert.ok(!names.some((n) => n.startsWith('generator/embeddings/') || n.includes('.')), names.join(', '));
  assert.equal(ckpt.readValues('global_step').values[0], 8n);
  ckpt.close();
  // Converted back with the reader, every tensor equals the checkpoint's.
  const source = readPretrainedFolders(modelDir);
  for (const [role, heads] of [['discriminator', 2], ['generator', 1]] as const) {
    const back = convertTfCheckpoint(out, { role, numAttentionHeads: heads });
    const original = source[role]!;
    assert.deepEqual([...back.folder.tensors.keys()].sort(), [...original.tensors.keys()].filter((n) => n !== 'generator_lm_head.weight').sort());
    for (const [name, t] of back.folder.tensors) {
      assert.deepEqual(t.shape, original.tensors.get(name)!.shape, name);
      assert.deepEqual(t.data, original.tensors.get(name)!.data, name);
    }
  }
  // Refused: an existing checkpoint without --overwrite.
  assert.equal(await quietMain(['convert', '--to', 'tf', '--model', modelDir, '--output-dir', out]), 2);
});

function assertCloseArrays(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

test('bad inputs leave nothing behind and are named: an init_checkpoint without a model, a vocab.txt of another size, a changed batch size', async () => {
  // A first run refused while setting up the model leaves no model dir.
  const empty = join(data.dataDir, 'empty-folder');
  mkdirSync(empty, { recursive: true });
  const hp = resolvePretrainingHparams(tinyHparams(data.vocab.length, { init_checkpoint: empty }), data.dataDir, 'refused').hparams;
  await assert.rejects(runPretraining(hp, quiet), /empty-folder holds no model/);
  assert.equal(existsSync(hp.model_dir), false, 'no empty model dir left behind');

  // The discriminator's vocab.txt must have vocab_size entries.
  const copy = join(data.dataDir, 'vocab-mismatch');
  cpSync(join(modelDir, 'checkpoint-8', 'discriminator'), copy, { recursive: true });
  writeFileSync(join(copy, 'vocab.txt'), data.vocab.slice(0, 10).join('\n') + '\n');
  assert.throws(() => loadDiscriminator(copy), new RegExp(`vocab-mismatch/vocab\\.txt: has 10 tokens but config\\.json says vocab_size ${data.vocab.length}`));
  assert.throws(() => loadDiscriminator(join(data.dataDir, 'vocab.txt')), /vocab\.txt is a file; expected a model folder/);
  // Segment ids are checked like token ids.
  const disc = loadDiscriminator(modelDir, { kernels: jsKernels });
  assert.throws(() => disc.discriminate([ids], { segmentIds: [ids.map(() => 2)] }), /sequence 0, position 0: token type id 2 is outside \[0, 2\)/);
  assert.throws(() => disc.discriminate([ids], { segmentIds: [[0, 0]] }), /sequence 0: 11 input ids but 2 token type ids/);

  // Resuming with another batch size is allowed, and noted.
  const lines: string[] = [];
  const more = resolvePretrainingHparams(tinyHparams(data.vocab.length, { num_train_steps: 9, train_batch_size: 2 }), data.dataDir, 'trained').hparams;
  await runPretraining(more, { progress: false, log: (l) => lines.push(l) });
  assert.ok(lines.some((l) => /note: "train_batch_size" is 2 but .*checkpoint-8 was trained with 4/.test(l)), lines.join('\n'));
});

test('evaluation shows a progress bar (stderr) unless progress is off', async () => {
  const hp = resolvePretrainingHparams(tinyHparams(data.vocab.length, { do_train: false, do_eval: true, num_eval_steps: 3 }), data.dataDir, 'trained').hparams;
  const err: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((c: string | Uint8Array) => err.push(String(c)) > 0) as typeof process.stderr.write;
  try {
    await runPretraining(hp, { log: () => {} });
  } finally {
    process.stderr.write = write;
  }
  assert.match(err.join(''), /evaluating \[#+\] 100\.0% 3\/3/);
});
