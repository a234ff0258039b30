// The demo's parts on their own: stage reuse rules, subsets, the results table, the report's escaping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StageBook } from '../../src/demo/stages.js';
import { evenly } from '../../src/demo/finetune.js';
import { formatTable, markdownTable, resultsTable } from '../../src/demo/table.js';
import { renderReport, type ReportData } from '../../src/demo/report.js';
import { exampleSentences } from '../../src/demo/pretrain.js';
import { brownDocuments } from '../../src/finetune/data/brown.js';
import type { FinetuneSummary } from '../../src/demo/finetune.js';
import { demoPrecision } from '../../src/demo/run.js';
import { jsKernels } from '../../src/kernels/js/index.js';
import { nativeKernels } from '../../src/kernels/index.js';
import { loadAddon } from '../../src/kernels/native/addon.js';
import { bf16Addon } from '../../src/kernels/native/gemm-bf16.js';

test('a stage runs once per key, again when its key changes or its output is gone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'electra-stages-'));
  try {
    const book = new StageBook(dir);
    const out = join(dir, 'out.txt');
    let runs = 0;
    const work = async (): Promise<{ summary: string; data: { n: number } }> => {
      runs++;
      writeFileSync(out, String(runs));
      return { summary: `run ${runs}`, data: { n: runs } };
    };
    const there = (): boolean => existsSync(out);
    const a = await book.run('s', { x: 1 }, work, there);
    const b = await book.run('s', { x: 1 }, work, there);
    assert.equal(a.reused, false);
    assert.equal(b.reused, true);
    assert.equal(b.record.data.n, 1);
    assert.equal(b.record.summary, 'run 1');
    const c = await book.run('s', { x: 2 }, work, there);
    assert.equal(c.reused, false);
    assert.equal(c.record.data.n, 2);
    rmSync(out);
    const d = await book.run('s', { x: 2 }, work, there);
    assert.equal(d.reused, false, 'deleted output: the stage runs again');
    // A failed stage leaves no record: the next run tries again.
    await assert.rejects(book.run('t', {}, async () => {
      throw new Error('boom');
    }), /boom/);
    assert.equal(book.finished('t', {}), null);
    // A torn record file is not trusted.
    writeFileSync(book.file('s'), '{"stage": "s", "id"');
    assert.equal(book.finished('s', { x: 2 }), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('evenly spreads a subset over the whole list', () => {
  const items = Array.from({ length: 100 }, (_, i) => i);
  assert.deepEqual(evenly(items, 4), [0, 25, 50, 75]);
  assert.deepEqual(evenly(items, 200), items);
  assert.deepEqual(evenly([], 3), []);
});

function run(task: 'brown_genre' | 'brown_pos', init: 'electra' | 'random' | 'mlm', accuracy: number): FinetuneSummary {
  return { task, init, modelName: init, metrics: { accuracy, loss: 1 }, trainExamples: 1, devExamples: 1, trainSteps: 1, seconds: 1, resultsFile: '' };
}

test('the results table has a row per task and a column per initialisation', () => {
  const labels = new Map([['electra', 'ELECTRA 5min'], ['random', 'random init']] as const);
  const t = resultsTable([run('brown_genre', 'electra', 41.234), run('brown_genre', 'random', 30), run('brown_pos', 'electra', 90.5)], labels);
  assert.deepEqual(t.rows, [
    { task: 'brown_genre', metric: 'accuracy', scores: [41.234, 30] },
    { task: 'brown_pos', metric: 'accuracy', scores: [90.5, null] },
  ]);
  const text = formatTable(t).split('\n');
  assert.equal(text[0], 'task         metric    ELECTRA 5min  random init');
  assert.equal(text[2], 'brown_genre  accuracy         41.23        30.00');
  assert.equal(text[3], 'brown_pos    accuracy         90.50            -');
  assert.match(markdownTable(t), /\| brown_pos \| accuracy \| 90\.50 \| - \|/);
});

test('the report escapes text and data so nothing can close its script elements', () => {
  const hostile = '</script><img src=x onerror=alert(1)>';
  const data: ReportData = {
    title: hostile, generatedAt: 'now', machine: 'm', settings: { note: hostile }, stages: [{ stage: hostile, summary: hostile, seconds: 1, reused: false }],
    pretraining: [{
      summary: {
        objective: 'electra', modelName: 'm', modelDir: '', numTrainSteps: 1, plannedSteps: 1, updatesReason: hostile, secondsPerStep: 1, budgetSeconds: 1, trainSeconds: 1, stepFlops: 1,
        generator: { hidden_size: 1, num_hidden_layers: 1 }, discriminator: { hidden_size: 1, num_hidden_layers: 1 }, parameters: 1, threads: 2,
        heldout: [{ step: 0, disc_auc: 0.5, disc_accuracy: 0.5, disc_all_real_accuracy: 0.8, masked_lm_accuracy: 0, masked_lm_loss: 1 }],
        examples: [{ genre: hostile, document: 'x', text: hostile, tokens: [{ original: hostile, shown: '"q"', masked: true, replaced: true, prob: 0.5 }] }],
        finalCheckpoint: '',
      },
      metrics: [],
    }],
    finetuning: [], table: { columns: [], rows: [], pretraining: [{ label: hostile, updates: 1, planned: 1, reason: hostile }] },
  };
  const html = renderReport(data, '/* chart */');
  // Three script elements: the library, the data, the page code; the hostile text opens none.
  assert.equal((html.match(/<script/g) ?? []).length, 3);
  assert.equal((html.match(/<\/script>/g) ?? []).length, 3);
  assert.ok(!html.includes('<img'));
  const json = /<script id="demo-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html)![1]!;
  assert.equal((JSON.parse(json) as ReportData).title, hostile, 'the data round-trips');
});

test('example sentences come from held-out Brown documents', () => {
  const held = new Set(brownDocuments('dev').map((d) => d.id));
  const train = new Set(brownDocuments('train').map((d) => d.id));
  const examples = exampleSentences(4);
  assert.equal(examples.length, 4);
  assert.equal(new Set(examples.map((e) => e.genre)).size, 4, 'different genres');
  for (const e of examples) {
    assert.ok(held.has(e.document) && !train.has(e.document), e.document);
    const words = e.text.split(' ').length;
    assert.ok(words >= 14 && words <= 24);
  }
});

test("the demo's precision: auto is bf16 only where VDPBF16PS runs and the budget is in minutes", () => {
  // The JS backend emulates bf16: no faster than fp32.
  assert.equal(demoPrecision('auto', undefined, jsKernels), 'fp32');
  assert.equal(demoPrecision('bf16', undefined, jsKernels), 'bf16');
  assert.equal(demoPrecision('fp32', undefined, jsKernels), 'fp32');
  const addon = loadAddon().addon;
  const native = nativeKernels();
  if (!addon || !native || addon.info().isa !== 'avx512') return;
  const bf16 = bf16Addon(addon);
  const setting = bf16.bf16KernelSetting();
  try {
    bf16.setBf16Kernel('emulated');
    assert.equal(demoPrecision('auto', undefined, native), 'fp32');
    let vdp = true;
    try {
      bf16.setBf16Kernel('vdpbf16ps');
    } catch {
      vdp = false;  // no avx512_bf16 on this CPU
    }
    if (vdp) {
      assert.equal(demoPrecision('auto', undefined, native), 'bf16');
      // A fixed update count gives the same results on any machine: fp32 unless asked.
      assert.equal(demoPrecision('auto', 14, native), 'fp32');
      assert.equal(demoPrecision('bf16', 14, native), 'bf16');
    }
  } finally {
    bf16.setBf16Kernel(setting);
  }
});
