// Gradient checks of the generator and discriminator heads (float64, JS kernels).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddingTables } from '../../src/nn/embeddings.js';
import { ParameterSet, Scope } from '../../src/nn/params.js';
import { allocFloats } from '../../src/nn/tensor.js';
import { GeneratorHead, DiscriminatorHead } from '../../src/model/heads.js';
import type { ElectraConfig } from '../../src/model/config.js';
import { checkGradient, checkParamGradients, dot, gradKernels as K, randomFloat64, randomizeParams } from '../nn/gradcheck.js';

const config: ElectraConfig = {
  vocab_size: 13, embedding_size: 6, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16,
  hidden_act: 'gelu', hidden_dropout_prob: 0.1, attention_probs_dropout_prob: 0.1, max_position_embeddings: 8,
  type_vocab_size: 2, initializer_range: 0.02, layer_norm_eps: 1e-12,
};

test('GeneratorHead: dense, LayerNorm, output bias, tied word embeddings and dHidden match finite differences', () => {
  const ps = new ParameterSet();
  const tables = new EmbeddingTables(K, ps, new Scope('electra.embeddings', 'electra.embeddings', ['generator']), {
    vocabSize: 13, embeddingSize: 6, maxPositions: 8, typeVocabSize: 2, layerNormEps: 1e-12, initializerRange: 0.02,
  });
  const head = new GeneratorHead(K, ps, new Scope('generator', '', ['generator']), config, tables, 6, 'float64');
  ps.allocate('float64');
  randomizeParams(ps, 1);
  const tokens = 10;
  const hidden = randomFloat64(tokens * 8, 2);
  // A repeated position, as when the masking draws a position twice.
  const positions = Int32Array.from([1, 4, 4, 9, 6]);
  const rows = positions.length;
  const r = randomFloat64(rows * 13, 3);
  const loss = (): number => dot(r, head.forward(hidden, positions, rows), rows * 13);
  loss();
  const dHidden = randomFloat64(tokens * 8, 4); // must be overwritten
  head.backward(Float64Array.from(r) as unknown as Float32Array, dHidden, tokens);
  checkParamGradients(ps, loss, { skip: (n) => /position|token_type|embeddings\.LayerNorm/.test(n) });
  checkGradient('hidden', hidden, dHidden, loss);
  assert.ok(dHidden.subarray(0, 8).every((v) => v === 0), 'rows without predictions get no gradient');
});

test('DiscriminatorHead: dense, dense_prediction and dHidden match finite differences', () => {
  const ps = new ParameterSet();
  const head = new DiscriminatorHead(K, ps, new Scope('discriminator', '', ['discriminator']), config, 12, 'float64');
  ps.allocate('float64');
  randomizeParams(ps, 5);
  const rows = 9;
  const hidden = randomFloat64(rows * 8, 6);
  const r = randomFloat64(rows, 7);
  const loss = (): number => dot(r, head.forward(hidden, rows), rows);
  loss();
  const dHidden = allocFloats(rows * 8, 'float64');
  head.backward(Float64Array.from(r) as unknown as Float32Array, dHidden);
  checkParamGradients(ps, loss);
  checkGradient('hidden', hidden, dHidden, loss);
  assert.deepEqual(ps.entries.map((e) => e.hfNames[0]!.name), [
    'discriminator_predictions.dense.weight', 'discriminator_predictions.dense.bias',
    'discriminator_predictions.dense_prediction.weight', 'discriminator_predictions.dense_prediction.bias',
  ]);
});
