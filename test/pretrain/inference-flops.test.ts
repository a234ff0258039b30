// The FLOP count behind the pre-training bench's inference figure equals the GEMM FLOPs that
// discriminator inference (ElectraDiscriminator.forward) issues, counted at the kernels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsKernels } from '../../src/kernels/index.js';
import { discriminatorConfig } from '../../src/model/config.js';
import { ElectraDiscriminator } from '../../src/model/discriminator.js';
import { discriminatorForwardFlops } from '../../src/model/flops.js';
import { KernelProfiler } from '../../bench/profile.js';
import { tinyConfig, tinyInputs } from '../model/fixtures.js';

test('discriminator inference FLOPs = the forward matmul FLOPs counted at the kernels', () => {
  const profiler = new KernelProfiler(jsKernels, false);
  const config = discriminatorConfig(tinyConfig());
  const model = new ElectraDiscriminator(profiler.kernels, config, { maxBatch: 2, maxSeqLen: 8 });
  model.params.initialize(1);
  const x = tinyInputs();
  model.forward(x.inputIds, x.segmentIds, x.inputMask, x.batch, x.seqLen);
  const counted = profiler.report().reduce((s, r) => s + r.flops, 0);
  assert.ok(counted > 0);
  assert.equal(counted, discriminatorForwardFlops(config, x.batch, x.seqLen));
});
