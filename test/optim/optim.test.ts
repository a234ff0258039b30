// AdamW (no bias correction, decoupled decay, decay mask, global-norm clipping) against a
// float64 hand computation, and the reference learning-rate schedule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ParameterSet, Scope } from '../../src/nn/params.js';
import { Linear } from '../../src/nn/linear.js';
import { LayerNorm } from '../../src/nn/layer-norm.js';
import { Rng } from '../../src/nn/random.js';
import { AdamW } from '../../src/optim/adamw.js';
import { learningRateAt } from '../../src/optim/schedule.js';
import { backends } from '../helpers.js';

function smallSet(): ParameterSet {
  const ps = new ParameterSet();
  const scope = new Scope('x', 'x', ['discriminator']);
  Linear.declare(backends()[0]!, ps, scope.child('dense'), 3, 2);
  LayerNorm.declare(backends()[0]!, ps, scope.child('LayerNorm'), 3, 1e-12);
  ps.declare('x.generator_lm_head.bias', [4], { kind: 'zeros' });
  ps.declare('x.word_embeddings.weight', [2, 2], { kind: 'truncatedNormal', std: 0.02 });
  return ps;
}

test('decay mask excludes LayerNorm weights and all biases, as the reference name rule', () => {
  const ps = smallSet();
  const decays = Object.fromEntries(ps.entries.map((e) => [e.name, e.decay]));
  assert.deepEqual(decays, {
    'x.dense.weight': true, 'x.dense.bias': false, 'x.LayerNorm.weight': false, 'x.LayerNorm.bias': false,
    'x.generator_lm_head.bias': false, 'x.word_embeddings.weight': true,
  });
  const mask = ps.decayMask();
  assert.deepEqual(Array.from(mask), [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
});

for (const k of backends()) {
  test(`AdamW step with clipping and decay mask matches a float64 hand computation (${k.name})`, () => {
    const ps = smallSet();
    ps.allocate('float32');
    ps.initialize(3);
    const n = ps.size;
    const opt = new AdamW(k, ps, { weightDecayRate: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-6, clipNorm: 1.0 });
    const p = Float64Array.from(ps.params);
    const m = new Float64Array(n);
    const v = new Float64Array(n);
    const mask = ps.decayMask();
    const rng = new Rng(4);
    for (let step = 0; step < 4; step++) {
      // Step 0 and 2: gradient norm above 1 (clipped); 1 and 3: below.
      const scale = step % 2 === 0 ? 3 : 0.05;
      for (let i = 0; i < n; i++) ps.grads[i] = (rng.uniform() * 2 - 1) * scale;
      const g = Float64Array.from(ps.grads);
      const norm = Math.sqrt(g.reduce((s, x) => s + x * x, 0));
      const clip = norm > 1 ? 1 / norm : 1;
      const lr = 0.01 * (step + 1);
      const reported = opt.update(lr);
      assert.ok(Math.abs(reported - norm) < 1e-5 * norm, 'returns the pre-clip norm');
      for (let i = 0; i < n; i++) {
        const gi = g[i]! * clip;
        m[i] = 0.9 * m[i]! + 0.1 * gi;
        v[i] = 0.999 * v[i]! + 0.001 * gi * gi;
        let update = m[i]! / (Math.sqrt(v[i]!) + 1e-6);
        if (mask[i]) update += 0.01 * p[i]!;
        p[i] = p[i]! - lr * update;
      }
      for (let i = 0; i < n; i++) {
        assert.ok(Math.abs(ps.params[i]! - p[i]!) < 1e-6 + 1e-5 * Math.abs(p[i]!), `step ${step} param ${i}: ${ps.params[i]} vs ${p[i]}`);
        assert.ok(Math.abs(opt.m[i]! - m[i]!) < 1e-6 && Math.abs(opt.v[i]! - v[i]!) < 1e-7, `step ${step} moments ${i}`);
      }
    }
    assert.equal(opt.step, 4);
  });
}

test('learning-rate schedule: overlapping linear warmup and polynomial decay, lr 0 on the first update', () => {
  const s = { learningRate: 5e-4, numTrainSteps: 1000, numWarmupSteps: 100, lrDecayPower: 1 };
  const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-15, `${a} vs ${b}`);
  close(learningRateAt(0, s), 0);
  close(learningRateAt(50, s), 5e-4 * (1 - 50 / 1000) * 0.5);
  close(learningRateAt(100, s), 5e-4 * 0.9);
  close(learningRateAt(600, s), 5e-4 * 0.4);
  close(learningRateAt(1000, s), 0);
  close(learningRateAt(1500, s), 0);
  close(learningRateAt(500, { ...s, lrDecayPower: 2 }), 5e-4 * 0.25);
  close(learningRateAt(0, { ...s, numWarmupSteps: 0 }), 5e-4);
  // Fine-tuning style: warmup = max(steps, proportion * total).
  close(learningRateAt(50, { ...s, numWarmupSteps: 0, warmupProportion: 0.1 }), 5e-4 * 0.95 * 0.5);
});
