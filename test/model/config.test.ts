// Model sizes, generator sizing, overrides and the HuggingFace parameter registry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsKernels } from '../../src/kernels/index.js';
import { discriminatorConfig, generatorConfig, resolvePretrainingConfig } from '../../src/model/config.js';
import { ElectraPretrainingModel } from '../../src/model/pretraining-model.js';
import { ElectraDiscriminator } from '../../src/model/discriminator.js';

const pick = (c: ReturnType<typeof discriminatorConfig>): number[] =>
  [c.hidden_size, c.num_hidden_layers, c.num_attention_heads, c.intermediate_size, c.embedding_size];

test('small, base, large and debug sizes follow the reference', () => {
  const small = resolvePretrainingConfig({ model_size: 'small' });
  assert.equal(small.max_predictions_per_seq, 19);
  assert.deepEqual(pick(discriminatorConfig(small)), [256, 12, 4, 1024, 128]);
  assert.deepEqual(pick(generatorConfig(small)), [64, 12, 1, 256, 128]);
  const base = resolvePretrainingConfig({ model_size: 'base' });
  assert.deepEqual(pick(discriminatorConfig(base)), [768, 12, 12, 3072, 768]);
  assert.deepEqual(pick(generatorConfig(base)), [192, 12, 3, 768, 768]);
  const large = resolvePretrainingConfig({ model_size: 'large' });
  assert.deepEqual(pick(discriminatorConfig(large)), [1024, 24, 16, 4096, 1024]);
  assert.deepEqual(pick(generatorConfig(large)), [256, 24, 4, 1024, 1024]);
  const debug = resolvePretrainingConfig({ debug: true });
  assert.equal(debug.train_batch_size, 8);
  assert.equal(debug.num_train_steps, 20);
  assert.deepEqual(pick(discriminatorConfig(debug)), [144, 3, 4, 576, 128]);
  assert.deepEqual(pick(generatorConfig(debug)), [36, 3, 1, 144, 128]);
  // Given values win over debug defaults, as in the reference.
  assert.equal(resolvePretrainingConfig({ debug: true, train_batch_size: 2 }).train_batch_size, 2);
});

test('model_hparam_overrides: heads and FFN width follow an overridden hidden size unless set too', () => {
  const a = resolvePretrainingConfig({ model_size: 'base', model_hparam_overrides: { hidden_size: 512 } });
  assert.deepEqual(pick(discriminatorConfig(a)), [512, 12, 8, 2048, 512]);
  const b = resolvePretrainingConfig({ model_size: 'base', model_hparam_overrides: { hidden_size: 512, num_attention_heads: 2 } });
  assert.equal(discriminatorConfig(b).num_attention_heads, 2);
  const c = resolvePretrainingConfig({ generator_hidden_size: 0.5, generator_layers: 0.5 });
  assert.deepEqual(pick(generatorConfig(c)), [128, 6, 2, 512, 128]);
  assert.throws(() => resolvePretrainingConfig({ nonsense: 1 } as never), /Unknown hparam/);
});

test('ELECTRA-Small registry: HF names and shapes of both checkpoints, shared embeddings written to both', () => {
  const cfg = resolvePretrainingConfig({ model_size: 'small' });
  const model = new ElectraPretrainingModel(jsKernels, cfg, { maxBatch: 1, maxSeqLen: 8 });
  const disc = new Map(model.params.hfStateDict('discriminator').map((e) => [e.name, e.ref]));
  const gen = new Map(model.params.hfStateDict('generator').map((e) => [e.name, e.ref]));
  assert.equal(disc.size, 5 + 2 + 12 * 16 + 4);
  assert.equal(gen.size, 5 + 2 + 12 * 16 + 4 + 1);
  for (const name of ['word_embeddings.weight', 'position_embeddings.weight', 'token_type_embeddings.weight', 'LayerNorm.weight', 'LayerNorm.bias']) {
    const full = `electra.embeddings.${name}`;
    assert.equal(disc.get(full), gen.get(full), `${full} is one shared parameter`);
  }
  const shape = (m: Map<string, { shape: readonly number[] }>, n: string): number[] => [...m.get(n)!.shape];
  assert.deepEqual(shape(disc, 'electra.embeddings.word_embeddings.weight'), [30522, 128]);
  assert.deepEqual(shape(disc, 'electra.embeddings.position_embeddings.weight'), [512, 128]);
  assert.deepEqual(shape(disc, 'electra.embeddings_project.weight'), [256, 128]);
  assert.deepEqual(shape(gen, 'electra.embeddings_project.weight'), [64, 128]);
  assert.deepEqual(shape(disc, 'electra.encoder.layer.11.intermediate.dense.weight'), [1024, 256]);
  assert.deepEqual(shape(gen, 'electra.encoder.layer.11.output.dense.weight'), [64, 256]);
  assert.deepEqual(shape(disc, 'discriminator_predictions.dense_prediction.weight'), [1, 256]);
  assert.deepEqual(shape(gen, 'generator_predictions.dense.weight'), [128, 64]);
  assert.deepEqual(shape(gen, 'generator_predictions.LayerNorm.weight'), [128]);
  assert.deepEqual(shape(gen, 'generator_lm_head.bias'), [30522]);
  assert.notEqual(disc.get('electra.encoder.layer.0.attention.self.query.weight'), gen.get('electra.encoder.layer.0.attention.self.query.weight'));
  // Parameter counts: discriminator 13.55M, generator-only parameters 0.6M + lm bias.
  const count = (m: Map<string, { size: number }>): number => [...m.values()].reduce((s, r) => s + r.size, 0);
  assert.equal(count(disc), 13549057);
  assert.equal(model.params.size, count(disc) + count(gen) - 3972864);
  // The arenas hold each parameter once, offsets contiguous.
  let offset = 0;
  for (const e of model.params.entries) {
    assert.equal(e.offset, offset);
    offset += e.size;
  }
  assert.equal(offset, model.params.size);
  // The inference discriminator uses the same HF names and shapes.
  const inference = new ElectraDiscriminator(jsKernels, discriminatorConfig(cfg), { maxBatch: 1, maxSeqLen: 8 });
  const names = inference.params.hfStateDict('discriminator').map((e) => `${e.name}:${e.ref.shape.join('x')}`);
  assert.deepEqual(names, [...disc].map(([n, r]) => `${n}:${r.shape.join('x')}`));
  assert.deepEqual(inference.params.entries.map((e) => e.name), [...disc.keys()]);
});

test('discriminator-only inference equals the pre-training discriminator on the same weights (HF names)', () => {
  const cfg = resolvePretrainingConfig({
    vocab_size: 30, embedding_size: 8, max_seq_length: 8,
    model_hparam_overrides: { hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 24, max_position_embeddings: 16 },
  });
  const pre = new ElectraPretrainingModel(jsKernels, cfg, { maxBatch: 2, maxSeqLen: 8 });
  pre.initialize(3);
  const inference = new ElectraDiscriminator(jsKernels, discriminatorConfig(cfg), { maxBatch: 2, maxSeqLen: 8 });
  const source = new Map(pre.params.hfStateDict('discriminator').map((e) => [e.name, e.ref]));
  for (const { name, ref } of inference.params.hfStateDict('discriminator')) ref.value.set(source.get(name)!.value);
  const ids = Int32Array.from([1, 11, 12, 13, 2, 14, 15, 2, 1, 16, 17, 2, 0, 0, 0, 0]);
  const segs = Int32Array.from([0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  const mask = Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0]);
  const out = inference.forward(ids, segs, mask, 2, 8);
  const body = pre.discriminator!;
  const hidden = body.forward(ids, segs, mask, 2, 8, body.dropout(false, 0));
  const logits = pre.discriminatorHead!.forward(hidden, 16);
  for (let i = 0; i < 16; i++) {
    assert.equal(out.logits[i], logits[i]);
    assert.ok(Math.abs(out.probs[i]! - 1 / (1 + Math.exp(-logits[i]!))) < 1e-6);
  }
  assert.equal(inference.hiddenStates().length, 2);
  assert.equal(out.hidden.length, 16 * 16);
});
