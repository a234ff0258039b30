// The reference's generator switches through `runPretraining`: what each checkpoint holds, that a
// run resumes from it, and that the discriminator folder loads as a plain ElectraForPreTraining.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from '../../src/io/safetensors.js';
import { resolvePretrainingHparams } from '../../src/pretrain/hparams.js';
import { loadDiscriminator } from '../../src/pretrain/load.js';
import { runPretraining } from '../../src/pretrain/run.js';
import { makeTinyDataDir, tinyHparams, type TinyDataDir } from './fixtures.js';

let data: TinyDataDir;
before(async () => {
  data = await makeTinyDataDir('objectives');
});
after(() => data.cleanup());

const quiet = { progress: false, log: (): void => {} };

async function run(name: string, extra: Record<string, unknown>): Promise<string> {
  const hp = resolvePretrainingHparams(tinyHparams(data.vocab.length, { num_train_steps: 4, ...extra }), data.dataDir, name).hparams;
  const r = await runPretraining(hp, quiet);
  assert.equal(r.step, 4);
  // A rerun finds the finished checkpoint and resumes from it (restores every parameter).
  const again = await runPretraining({ ...hp, num_train_steps: 5 }, quiet);
  assert.equal(again.resumedFrom, 4);
  assert.ok(again.checkpoint);
  return again.checkpoint;
}

const tensors = (dir: string, role: string): Map<string, { shape: number[]; data: Float32Array }> =>
  readSafetensors(join(dir, role, 'model.safetensors')).tensors as Map<string, { shape: number[]; data: Float32Array }>;

test('uniform_generator, untied_generator false, untied_generator_embeddings: checkpoints, resume, discriminator folder', async () => {
  const uniform = await run('uniform', { uniform_generator: true, disallow_correct: true });
  assert.ok(!existsSync(join(uniform, 'generator')), 'a uniform generator has no weights to save');
  assert.equal(loadDiscriminator(uniform).config.hidden_size, 32);

  const tied = await run('tied', { untied_generator: false });
  const g = tensors(tied, 'generator');
  const d = tensors(tied, 'discriminator');
  assert.deepEqual(g.get('electra.encoder.layer.1.output.dense.weight')!.shape, [32, 64], 'a discriminator-sized generator');
  for (const [name, t] of g) if (name.startsWith('electra.')) assert.deepEqual(t.data, d.get(name)!.data, `${name} is shared`);

  const own = await run('own-embeddings', { untied_generator_embeddings: true });
  const ge = tensors(own, 'generator').get('electra.embeddings.word_embeddings.weight')!;
  const de = tensors(own, 'discriminator').get('electra.embeddings.word_embeddings.weight')!;
  assert.deepEqual(ge.shape, [data.vocab.length, 16]);
  assert.notDeepEqual(ge.data, de.data);
  assert.equal(loadDiscriminator(own).config.embedding_size, 16);
});

test('electric_objective: the cloze model resumes from the checkpoint state; the discriminator folder is a plain ElectraForPreTraining', async () => {
  const dir = await run('electric', { electric_objective: true });
  assert.ok(!existsSync(join(dir, 'generator')), 'the two-tower cloze model has no HF folder');
  const state = readSafetensors(join(dir, 'optimizer.safetensors')).tensors;
  assert.ok(state.has('generator_ltr.electra.encoder.layer.0.attention.self.query.weight'));
  assert.ok(state.has('cloze.cloze_predictions.output_bias'));
  const disc = loadDiscriminator(dir);
  assert.equal(disc.folder.architecture, 'ElectraForPreTraining');
});
