// Low precision end to end. bf16 pre-training: the precision hparam, the layer wiring (forward
// products on weights packed once per update, the rest through gemmBf16), and the training
// curve: the debug ELECTRA pre-trained on Brown for 200 updates in fp32 and in bf16 from the same
// seed reaches held-out disc AUC and generator accuracy within 0.01 of each other. int8
// inference: that trained discriminator loaded with quantize "int8" gives logits with cosine
// similarity >= 0.999 to fp32's.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readCorpus } from '../../src/data/corpora.js';
import { resolvePretrainingHparams } from '../../src/pretrain/hparams.js';
import { runPretraining } from '../../src/pretrain/run.js';
import { loadDiscriminator } from '../../src/pretrain/load.js';
import { backends, randomArray } from '../helpers.js';
import { bf16SpeedNote, kernels, withPrecision } from '../../src/kernels/index.js';
import { Linear } from '../../src/nn/linear.js';
import { DropoutSites } from '../../src/nn/dropout.js';
import { Encoder } from '../../src/nn/encoder.js';
import { ParameterSet, Scope } from '../../src/nn/params.js';
import { makeBrownDataDir, tempDir } from './fixtures.js';

// One compute thread (see learn.test.ts): the same results, far less time on a loaded machine.
process.env['ELECTRA_THREADS'] ??= '1';

const root = tempDir('lowp');
after(() => root.cleanup());

test('precision is an hparam: fp32 by default, bf16 on request, anything else refused', () => {
  assert.equal(resolvePretrainingHparams({}, root.dir, 'm').hparams.precision, 'fp32');
  assert.equal(resolvePretrainingHparams({ precision: 'bf16' }, root.dir, 'm').hparams.precision, 'bf16');
  assert.throws(() => resolvePretrainingHparams({ precision: 'fp16' }, root.dir, 'm'), /'precision' must be one of 'fp32', 'bf16', got "fp16"/);
});

test('a bf16 Linear multiplies with gemmBf16 and repacks its weights after each update', () => {
  for (const k of backends()) {
    const b16 = withPrecision(k, 'bf16');
    const ps = new ParameterSet();
    const layer = Linear.declare(b16, ps, new Scope('l', 'l', []), 40, 70);
    ps.allocate();
    ps.initialize(5);
    layer.bias!.value.set(randomArray(70, 3));
    const x = randomArray(9 * 40, 4);
    const expected = (): Float32Array => {
      const y = new Float32Array(9 * 70);
      k.gemmBf16({ transA: false, transB: true, m: 9, n: 70, k: 40, alpha: 1, beta: 0, a: x, lda: 40, b: layer.weight.value, ldb: 40, c: y, ldc: 70 });
      k.biasAdd(y, layer.bias!.value, y, 9, 70);
      return y;
    };
    const y = new Float32Array(9 * 70);
    layer.forward(x, y, 9);
    assert.deepEqual(y, expected(), k.name);
    // An update (AdamW calls valuesChanged) makes the next forward use the new values.
    layer.weight.value[0] = 3;
    ps.valuesChanged();
    layer.forward(x, y, 9);
    assert.deepEqual(y, expected(), `${k.name}: after an update`);
    // dx = dy W and dW += dy^T x take bf16 inputs too.
    const dy = randomArray(9 * 70, 6);
    const dx = new Float32Array(9 * 40);
    layer.backward(x, dy, dx, 9);
    const dxExpected = new Float32Array(9 * 40);
    k.gemmBf16({ transA: false, transB: false, m: 9, n: 40, k: 70, alpha: 1, beta: 0, a: dy, lda: 70, b: layer.weight.value, ldb: 40, c: dxExpected, ldc: 40 });
    assert.deepEqual(dx, dxExpected, `${k.name}: dx`);
    const dw = new Float32Array(70 * 40);
    k.gemmBf16({ transA: true, transB: false, m: 70, n: 40, k: 9, alpha: 1, beta: 1, a: dy, lda: 70, b: x, ldb: 40, c: dw, ldc: 40 });
    assert.deepEqual(layer.weight.grad, dw, `${k.name}: dW`);
  }
});

test('a bf16 encoder keeps its GEMM-only activations as bf16 values with the results of fp32 buffers', () => {
  // The reference runs the same bf16 products with every activation in fp32: a view whose GEMMs
  // are gemmBf16 but which the layers take for fp32 (no bf16 copies, no packed weights).
  const dims = { hidden: 16, heads: 2, intermediate: 40, maxBatch: 3, maxSeqLen: 9, layerNormEps: 1e-12, initializerRange: 0.2 };
  const [batch, seq] = [3, 7];
  const dropout = { hiddenProb: 0.1, attentionProb: 0.2, stepSeed: 77 };
  for (const k of backends()) {
    const b16 = withPrecision(k, 'bf16');
    const run = (view: typeof k): { out: Float32Array; dx: Float32Array; grads: Float32Array } => {
      const ps = new ParameterSet();
      const enc = new Encoder(view, ps, new Scope('e', 'e', []), dims, 2, 'float32', new DropoutSites());
      ps.allocate();
      ps.initialize(9);
      const x = randomArray(batch * seq * dims.hidden, 10);
      const mask = new Float32Array(batch * seq);
      mask[batch * seq - 1] = -10000;
      const out = enc.forward(x, batch, seq, mask, dropout).slice(0, batch * seq * dims.hidden);
      const dx = new Float32Array(batch * seq * dims.hidden);
      enc.backward(randomArray(batch * seq * dims.hidden, 11), dx);
      return { out, dx, grads: ps.grads.slice() };
    };
    const got = run(b16);
    const expected = run({ ...b16, precision: 'fp32' });
    assert.deepEqual(got.out, expected.out, `${k.name}: output`);
    assert.deepEqual(got.dx, expected.dx, `${k.name}: dx`);
    assert.deepEqual(got.grads, expected.grads, `${k.name}: parameter gradients`);
  }
});

test('bf16 and fp32 pre-training from one seed reach the same held-out AUC and generator accuracy', async () => {
  const dataDir = root.dir;
  const base = { ...(await makeBrownDataDir(dataDir)), iterations_per_loop: 50 };
  const logs: Record<string, string[]> = { fp32: [], bf16: [] };
  const quiet = (p: string) => ({ progress: false, log: (line: string): void => void logs[p]!.push(line) });
  const fp32 = await runPretraining(resolvePretrainingHparams(base, dataDir, 'fp32').hparams, quiet('fp32'));
  const bf16 = await runPretraining(resolvePretrainingHparams({ ...base, precision: 'bf16' }, dataDir, 'bf16').hparams, quiet('bf16'));
  // The note on an emulated bf16 kernel, where there is one, in the bf16 run only.
  const note = bf16SpeedNote(kernels());
  assert.equal(logs['bf16']!.includes(note!), note !== null);
  assert.ok(!logs['fp32']!.some((l) => l.startsWith('precision bf16')));
  const a = fp32.eval!;
  const b = bf16.eval!;
  const summary = `fp32 auc ${a.disc_auc.toFixed(4)} mlm acc ${a.masked_lm_accuracy.toFixed(4)}; ` +
    `bf16 auc ${b.disc_auc.toFixed(4)} mlm acc ${b.masked_lm_accuracy.toFixed(4)}`;
  console.log(summary);
  assert.ok(a.disc_auc > 0.75, `fp32 learned: ${summary}`);
  assert.ok(Math.abs(a.disc_auc - b.disc_auc) <= 0.01, summary);
  assert.ok(Math.abs(a.masked_lm_accuracy - b.masked_lm_accuracy) <= 0.01, summary);
});

test('the trained discriminator quantized to int8 gives the fp32 logits (cosine >= 0.999)', (t) => {
  const modelDir = join(root.dir, 'models', 'fp32');
  const texts = readCorpus('brown').slice(200, 212).map((d) => d.lines.join(' ').slice(0, 400));
  for (const k of backends()) {
    const fp32 = loadDiscriminator(modelDir, { kernels: k, maxSeqLen: 64 });
    const int8 = loadDiscriminator(modelDir, { kernels: k, maxSeqLen: 64, quantize: 'int8' });
    let dot = 0;
    let na = 0;
    let nb = 0;
    let agree = 0;
    let tokens = 0;
    let maxDiff = 0;
    for (const text of texts) {
      const a = fp32.discriminateText(text);
      const b = int8.discriminateText(text);
      assert.deepEqual(b.tokens, a.tokens);
      for (let i = 0; i < a.logits.length; i++) {
        dot += a.logits[i]! * b.logits[i]!;
        na += a.logits[i]! ** 2;
        nb += b.logits[i]! ** 2;
        agree += (a.logits[i]! > 0) === (b.logits[i]! > 0) ? 1 : 0;
        maxDiff = Math.max(maxDiff, Math.abs(a.logits[i]! - b.logits[i]!));
        tokens++;
      }
    }
    const cosine = dot / Math.sqrt(na * nb);
    t.diagnostic(`${k.name}: cosine ${cosine.toFixed(6)}, largest logit change ${maxDiff.toFixed(4)}, ` +
      `replaced/original calls agree on ${agree}/${tokens} tokens`);
    assert.ok(maxDiff > 0, 'the int8 model computes differently (quantization is in effect)');
    assert.ok(cosine >= 0.999, `${k.name}: cosine ${cosine}`);
    assert.ok(agree / tokens >= 0.99, `${k.name}: ${agree}/${tokens}`);
  }
  assert.throws(() => loadDiscriminator(modelDir, { quantize: 'int4' as 'int8' }), /quantize must be "int8" or left out, got "int4"/);
});
