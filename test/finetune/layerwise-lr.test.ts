// Layer-wise learning-rate decay: depths from HF names and the reference's top-layer quirk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { layerDepth, layerwiseLrScale, layerwiseLrScales } from '../../src/finetune/layerwise-lr.js';

const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-15, `${a} != ${b}`);

test('depths: embeddings 0, layer i -> i + 1, head n + 2 (n + 1 when fixed)', () => {
  assert.equal(layerDepth('electra.embeddings.word_embeddings.weight', 12), 0);
  assert.equal(layerDepth('electra.embeddings.LayerNorm.bias', 12), 0);
  assert.equal(layerDepth('electra.embeddings_project.weight', 12), 0);
  assert.equal(layerDepth('electra.encoder.layer.0.attention.self.query.weight', 12), 1);
  assert.equal(layerDepth('electra.encoder.layer.1.output.dense.bias', 12), 2);
  assert.equal(layerDepth('electra.encoder.layer.10.output.dense.bias', 12), 11, 'layer.10 is not layer.1');
  assert.equal(layerDepth('electra.encoder.layer.11.output.LayerNorm.weight', 12), 12);
  assert.equal(layerDepth('classifier.out_proj.weight', 12), 14);
  assert.equal(layerDepth('qa_outputs.weight', 12, true), 13);
  // names without the electra. prefix (a bare encoder) work the same
  assert.equal(layerDepth('encoder.layer.3.intermediate.dense.weight', 4), 4);
  assert.throws(() => layerDepth('electra.encoder.layer.12.output.dense.bias', 12), /layer 12 but the model has 12 layers/);
  assert.throws(() => layerDepth('electra.pooler.dense.weight', 12), /no layer-wise learning rate/);
});

test('scales: decay^(n + 2 - depth), the top layer gets decay^2 unless fixed', () => {
  const opts = { numLayers: 12, decay: 0.8 };
  close(layerwiseLrScale('electra.embeddings.word_embeddings.weight', opts), 0.8 ** 14);
  close(layerwiseLrScale('electra.encoder.layer.0.attention.self.key.bias', opts), 0.8 ** 13);
  close(layerwiseLrScale('electra.encoder.layer.11.attention.self.key.bias', opts), 0.8 ** 2);
  assert.equal(layerwiseLrScale('classifier.weight', opts), 1);
  const fixed = { ...opts, fixTop: true };
  close(layerwiseLrScale('electra.encoder.layer.11.attention.self.key.bias', fixed), 0.8);
  close(layerwiseLrScale('electra.embeddings.position_embeddings.weight', fixed), 0.8 ** 13);
  assert.equal(layerwiseLrScale('classifier.weight', fixed), 1);
  assert.deepEqual(layerwiseLrScales(['electra.embeddings.x.weight', 'head.weight'], { numLayers: 2, decay: 0.5 }), [0.0625, 1]);
  assert.deepEqual(layerwiseLrScales(['electra.embeddings.x.weight', 'head.weight'], { numLayers: 2, decay: 0 }), [1, 1], 'decay <= 0 disables');
});
