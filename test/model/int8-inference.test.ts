// int8 inference runs each encoder layer a few sequences at a time (its intermediates stay in
// cache) with GELU and the residual in the GEMM epilogues: the logits of a batch equal, bit for
// bit, those of each sequence run alone (rows never mix, so the passes change nothing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withPrecision, type Int8GemmArgs, type Kernels } from '../../src/kernels/index.js';
import { discriminatorConfig } from '../../src/model/config.js';
import { ElectraDiscriminator } from '../../src/model/discriminator.js';
import { backends } from '../helpers.js';
import { tinyConfig } from './fixtures.js';

// One compute thread: passes of 128 rows, so one sequence of 128 per pass.
process.env['ELECTRA_THREADS'] ??= '1';

test('int8 inference in passes of a few sequences gives each sequence its own logits, bit for bit', () => {
  const seqLen = 128;
  const batch = 3;
  const config = discriminatorConfig(tinyConfig({ max_seq_length: seqLen, model_hparam_overrides: {
    hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 24, max_position_embeddings: seqLen,
  } }));
  const ids = new Int32Array(batch * seqLen).map((_, i) => 4 + ((i * 7) % 25));
  const segments = new Int32Array(batch * seqLen).map((_, i) => (i % seqLen >= 60 ? 1 : 0));
  // Sequence 1 ends in padding: its mask rows must follow it into its pass.
  const mask = new Int32Array(batch * seqLen).map((_, i) => (i >= seqLen && i < 2 * seqLen && i % seqLen >= 90 ? 0 : 1));
  for (const base of backends()) {
    const rows: number[] = [];
    const spy: Kernels = { ...base, gemmInt8: (args: Int8GemmArgs) => { rows.push(args.m); base.gemmInt8(args); } };
    const k = withPrecision(spy, 'int8');
    const whole = new ElectraDiscriminator(k, config, { maxBatch: batch, maxSeqLen: seqLen });
    whole.params.initialize(5);
    const one = new ElectraDiscriminator(k, config, { maxBatch: 1, maxSeqLen: seqLen, shareParams: whole.params });
    const logits = Float32Array.from(whole.forward(ids, segments, mask, batch, seqLen).logits);
    const hidden = whole.hiddenStates().map((h) => Float32Array.from(h.subarray(0, batch * seqLen * 16)));
    // 4 products per layer (QKV, attention output, FFN in and out), each sequence apart.
    assert.equal(rows.filter((m) => m === seqLen).length, 2 * 4 * batch, `${base.name}: products per sequence (m: ${rows.join()})`);
    for (let b = 0; b < batch; b++) {
      const span = (a: Int32Array): Int32Array => a.subarray(b * seqLen, (b + 1) * seqLen);
      const alone = one.forward(span(ids), span(segments), span(mask), 1, seqLen);
      assert.deepEqual(alone.logits, logits.subarray(b * seqLen, (b + 1) * seqLen), `${base.name}: sequence ${b}`);
      const layers = one.hiddenStates();
      for (const [l, h] of hidden.entries()) {
        assert.deepEqual(layers[l]!.subarray(0, seqLen * 16), h.subarray(b * seqLen * 16, (b + 1) * seqLen * 16), `${base.name}: sequence ${b}, layer ${l}`);
      }
    }
  }
});
