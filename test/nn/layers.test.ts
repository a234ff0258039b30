// Per-layer finite-difference gradient checks in float64 through the JS kernels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attention } from '../../src/nn/attention.js';
import { DropoutSites, type DropoutContext } from '../../src/nn/dropout.js';
import { Embeddings, EmbeddingTables } from '../../src/nn/embeddings.js';
import { Encoder } from '../../src/nn/encoder.js';
import { FeedForward } from '../../src/nn/feed-forward.js';
import { LayerNorm } from '../../src/nn/layer-norm.js';
import { Linear } from '../../src/nn/linear.js';
import { ParameterSet, Scope } from '../../src/nn/params.js';
import { LayerScratch } from '../../src/nn/scratch.js';
import { allocFloats } from '../../src/nn/tensor.js';
import { TransformerLayer } from '../../src/nn/transformer-layer.js';
import { checkGradient, checkParamGradients, dot, gradKernels as K, randomFloat64, randomizeParams } from './gradcheck.js';

const scope = new Scope('m', 'm', ['discriminator']);
const DROPOUT: DropoutContext = { hiddenProb: 0.1, attentionProb: 0.2, stepSeed: 1234 };
// Smaller than the allocated maximum, so layouts that wrongly use the maximum shape show up.
const BATCH = 2;
const SEQ = 4;
const dims = { hidden: 8, heads: 2, intermediate: 12, maxBatch: 3, maxSeqLen: 6, layerNormEps: 1e-12, initializerRange: 0.02 };

/** Additive attention mask: the last position of sequence 1 is padding. */
function maskFor(batch: number, seq: number): Float32Array {
  const m = allocFloats(batch * seq, 'float64');
  m[batch * seq - 1] = -10000;
  return m;
}

test('Linear: dW, db, dx (and dx accumulation) match finite differences', () => {
  const ps = new ParameterSet();
  const lin = Linear.declare(K, ps, scope.child('lin'), 5, 3);
  ps.allocate('float64');
  randomizeParams(ps, 1);
  const rows = 4;
  const x = randomFloat64(rows * 5, 2);
  const r = randomFloat64(rows * 3, 3);
  const y = allocFloats(rows * 3, 'float64');
  const loss = (): number => { lin.forward(x, y, rows); return dot(r, y, rows * 3); };
  loss();
  const dx = allocFloats(rows * 5, 'float64');
  lin.backward(x, r, dx, rows);
  checkParamGradients(ps, loss);
  checkGradient('x', x, dx, loss);
  // Accumulating into dx adds the same gradient on top.
  const before = Float64Array.from(dx);
  lin.backward(x, r, dx, rows, true);
  for (let i = 0; i < dx.length; i++) assert.ok(Math.abs(dx[i]! - 2 * before[i]!) < 1e-12);
});

test('LayerNorm: gamma, beta and dx match finite differences', () => {
  const ps = new ParameterSet();
  const ln = LayerNorm.declare(K, ps, scope.child('LayerNorm'), 6, 1e-12);
  ps.allocate('float64');
  randomizeParams(ps, 4, 0.5);
  const rows = 3;
  const x = randomFloat64(rows * 6, 5, 2);
  const r = randomFloat64(rows * 6, 6);
  const y = allocFloats(rows * 6, 'float64');
  const mean = allocFloats(rows, 'float64');
  const rstd = allocFloats(rows, 'float64');
  const loss = (): number => { ln.forward(x, y, mean, rstd, rows); return dot(r, y, rows * 6); };
  loss();
  const dx = allocFloats(rows * 6, 'float64');
  ln.backward(r, x, mean, rstd, dx, rows);
  checkParamGradients(ps, loss);
  checkGradient('x', x, dx, loss);
});

test('Embeddings: word, position, type tables and LayerNorm (with dropout) match finite differences', () => {
  const ps = new ParameterSet();
  const sizes = { vocabSize: 11, embeddingSize: 6, maxPositions: 8, typeVocabSize: 2, layerNormEps: 1e-12, initializerRange: 0.02 };
  const tables = new EmbeddingTables(K, ps, scope.child('embeddings'), sizes);
  ps.allocate('float64');
  randomizeParams(ps, 7);
  const emb = new Embeddings(K, tables, 3 * 6, 'float64', new DropoutSites());
  const T = BATCH * SEQ;
  const ids = Int32Array.from({ length: T }, (_, i) => (i * 7 + 3) % 11);
  const segs = Int32Array.from({ length: T }, (_, i) => (i % SEQ >= 2 ? 1 : 0));
  const r = randomFloat64(T * 6, 8);
  const loss = (): number => dot(r, emb.forward(ids, segs, BATCH, SEQ, DROPOUT), T * 6);
  loss();
  emb.backward(Float64Array.from(r) as unknown as Float32Array);
  checkParamGradients(ps, loss);
  // Rows never looked up get no gradient.
  assert.ok(tables.position.grad.subarray(SEQ * 6).every((v) => v === 0));
});

/** Runs a gradient check of a block with forward(x) -> out and backward(x, dOut, dx). */
function checkBlock(
  name: string, ps: ParameterSet, forward: (x: Float32Array) => Float32Array,
  backward: (x: Float32Array, dOut: Float32Array, dx: Float32Array) => void, seed: number,
): void {
  randomizeParams(ps, seed);
  const n = BATCH * SEQ * dims.hidden;
  const x = randomFloat64(n, seed + 1);
  const r = randomFloat64(n, seed + 2);
  const loss = (): number => dot(r, forward(x), n);
  loss();
  const dx = allocFloats(dims.maxBatch * dims.maxSeqLen * dims.hidden, 'float64');
  backward(x, r, dx);
  checkParamGradients(ps, loss);
  checkGradient(`${name} input`, x, dx.subarray(0, n), loss);
}

test('Attention: Q/K/V, output dense, LayerNorm and dx match finite differences (mask, dropout on)', () => {
  const ps = new ParameterSet();
  const att = new Attention(K, ps, scope.child('attention'), dims, new LayerScratch(dims, 'float64'), 'float64', new DropoutSites());
  ps.allocate('float64');
  const mask = maskFor(BATCH, SEQ);
  checkBlock('attention', ps, (x) => att.forward(x, BATCH, SEQ, mask, DROPOUT), (x, d, dx) => att.backward(x, d, dx), 10);
});

test('Attention ignores padded keys', () => {
  const ps = new ParameterSet();
  const att = new Attention(K, ps, scope.child('attention'), dims, new LayerScratch(dims, 'float64'), 'float64', new DropoutSites());
  ps.allocate('float64');
  randomizeParams(ps, 20);
  const n = BATCH * SEQ * dims.hidden;
  const x = randomFloat64(n, 21);
  const mask = maskFor(BATCH, SEQ);
  const none = { hiddenProb: 0, attentionProb: 0, stepSeed: 0 };
  const out1 = Float64Array.from(att.forward(x, BATCH, SEQ, mask, none).subarray(0, n));
  // Changing the padded token changes only its own output row.
  const padRow = BATCH * SEQ - 1;
  for (let c = 0; c < dims.hidden; c++) x[padRow * dims.hidden + c] += 1;
  const out2 = att.forward(x, BATCH, SEQ, mask, none);
  for (let i = 0; i < padRow * dims.hidden; i++) assert.ok(Math.abs(out2[i]! - out1[i]!) < 1e-9, `row ${Math.floor(i / dims.hidden)} changed`);
});

for (const causal of ['ltr', 'rtl'] as const) {
  test(`Causal attention (${causal}): finite differences, and each output depends only on its side of the sequence`, () => {
    const cfg = { ...dims, causal };
    const ps = new ParameterSet();
    const att = new Attention(K, ps, scope.child('attention'), cfg, new LayerScratch(cfg, 'float64'), 'float64', new DropoutSites());
    ps.allocate('float64');
    const mask = maskFor(BATCH, SEQ);
    checkBlock(`attention ${causal}`, ps, (x) => att.forward(x, BATCH, SEQ, mask, DROPOUT), (x, d, dx) => att.backward(x, d, dx), 30);
    // Changing token p changes only the outputs that may see it: positions >= p (ltr), <= p (rtl).
    const n = BATCH * SEQ * dims.hidden;
    const x = randomFloat64(n, 31);
    const none = { hiddenProb: 0, attentionProb: 0, stepSeed: 0 };
    const before = Float64Array.from(att.forward(x, BATCH, SEQ, null, none).subarray(0, n));
    const p = 1;
    for (let c = 0; c < dims.hidden; c++) x[p * dims.hidden + c] += 0.5;
    const after = att.forward(x, BATCH, SEQ, null, none);
    for (let pos = 0; pos < SEQ; pos++) {
      const sees = causal === 'ltr' ? pos >= p : pos <= p;
      let diff = 0;
      for (let c = 0; c < dims.hidden; c++) diff = Math.max(diff, Math.abs(after[pos * dims.hidden + c]! - before[pos * dims.hidden + c]!));
      assert.equal(diff > 1e-9, sees, `position ${pos}: changed ${diff}`);
    }
  });
}

test('FeedForward: intermediate, output dense, LayerNorm and dx match finite differences (dropout on)', () => {
  const ps = new ParameterSet();
  const ff = new FeedForward(K, ps, scope.child('layer.0'), dims, new LayerScratch(dims, 'float64'), 'float64', new DropoutSites());
  ps.allocate('float64');
  checkBlock('feed-forward', ps, (x) => ff.forward(x, BATCH * SEQ, DROPOUT), (x, d, dx) => ff.backward(x, d, dx), 30);
});

test('TransformerLayer: every parameter and dx match finite differences', () => {
  const ps = new ParameterSet();
  const layer = new TransformerLayer(K, ps, scope.child('layer.0'), dims, new LayerScratch(dims, 'float64'), 'float64', new DropoutSites());
  ps.allocate('float64');
  const mask = maskFor(BATCH, SEQ);
  checkBlock('layer', ps, (x) => layer.forward(x, BATCH, SEQ, mask, DROPOUT), (x, d, dx) => layer.backward(x, d, dx), 40);
  assert.deepEqual(ps.entries.map((e) => e.name), [
    'm.layer.0.attention.self.query.weight', 'm.layer.0.attention.self.key.weight', 'm.layer.0.attention.self.value.weight',
    'm.layer.0.attention.self.query.bias', 'm.layer.0.attention.self.key.bias', 'm.layer.0.attention.self.value.bias',
    'm.layer.0.attention.output.dense.weight', 'm.layer.0.attention.output.dense.bias',
    'm.layer.0.attention.output.LayerNorm.weight', 'm.layer.0.attention.output.LayerNorm.bias',
    'm.layer.0.intermediate.dense.weight', 'm.layer.0.intermediate.dense.bias',
    'm.layer.0.output.dense.weight', 'm.layer.0.output.dense.bias',
    'm.layer.0.output.LayerNorm.weight', 'm.layer.0.output.LayerNorm.bias',
  ]);
});

test('Encoder (3 layers): every parameter and dx match finite differences', () => {
  const ps = new ParameterSet();
  const enc = new Encoder(K, ps, scope.child('encoder'), dims, 3, 'float64', new DropoutSites());
  ps.allocate('float64');
  const mask = maskFor(BATCH, SEQ);
  checkBlock('encoder', ps, (x) => enc.forward(x, BATCH, SEQ, mask, DROPOUT), (x, d, dx) => enc.backward(d, dx), 50);
});
