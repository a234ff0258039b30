// The demo end to end at the smoke-test scale (--quick): every stage runs (ELECTRA, masked-LM and
// Electric pre-training included), the table and a self-contained report come out, a rerun reuses every
// stage, the CLI reuses them too, and a new seed reruns only what depends on it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { chartJsBundle, readDemoResults, runDemo, type DemoResult, type ReportData } from '../../src/demo/index.js';
import { demoPrecision } from '../../src/demo/run.js';
import { kernels, type Kernels } from '../../src/kernels/index.js';
import { QUICK_SCALE } from '../../src/demo/settings.js';
import { listCheckpoints } from '../../src/pretrain/checkpoint.js';
import { brownDocuments } from '../../src/finetune/data/brown.js';
import { METRICS_FILE } from '../../src/pretrain/run.js';
import { measureStep, pretrainingHparamValues } from '../../src/demo/pretrain.js';
import { resolvePretrainingHparams } from '../../src/pretrain/hparams.js';
import { readManifest } from '../../src/data/manifest.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = join(repoRoot, 'bin', 'electra.js');

let dir: string;
let first: DemoResult;
const lines: string[] = [];
const silent = new Writable({ write: (_c, _e, cb) => cb() });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'electra-demo-'));
  first = await runDemo({ outputDir: dir, quick: true, minutes: 0.1, compareMlm: true, compareElectric: true, seed: 3, log: (l) => lines.push(l), progressStream: silent });
});
after(() => rmSync(dir, { recursive: true, force: true }));

function reportData(html: string): ReportData {
  const m = /<script id="demo-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'the report embeds its data');
  return JSON.parse(m[1]!) as ReportData;
}

test('the first run runs every stage and prints the results table', () => {
  const names = first.stages.map((s) => s.stage);
  assert.deepEqual(names, [
    'corpus', 'vocab', 'dataset', 'pretrain-electra', 'pretrain-mlm', 'pretrain-electric',
    'finetune-electra-brown_genre', 'finetune-random-brown_genre', 'finetune-mlm-brown_genre', 'finetune-electric-brown_genre',
    'finetune-electra-brown_pos', 'finetune-random-brown_pos', 'finetune-mlm-brown_pos', 'finetune-electric-brown_pos',
  ]);
  assert.ok(first.stages.every((s) => !s.reused), 'nothing to reuse in a fresh folder');
  assert.deepEqual(first.table.columns.map((c) => c.init), ['electra', 'random', 'mlm', 'electric']);
  assert.deepEqual(first.table.rows.map((r) => r.task), ['brown_genre', 'brown_pos']);
  for (const row of first.table.rows) {
    for (const s of row.scores) assert.ok(s !== null && s >= 0 && s <= 100, `${row.task}: score ${s}`);
  }
  const printed = lines.join('\n');
  assert.match(printed, /task\s+metric\s+ELECTRA 0\.1min\s+random init\s+MLM 0\.1min\s+Electric 0\.1min/);
  assert.match(printed, /brown_pos\s+accuracy\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d\d/);
  assert.deepEqual(readDemoResults(dir).table, first.table, 'results.json holds the table');
  const md = readFileSync(first.resultsFile, 'utf8');
  assert.match(md, /\| brown_genre \| accuracy \| \d+\.\d\d \| \d+\.\d\d \| \d+\.\d\d \| \d+\.\d\d \|/);
});

test('pre-training text leaves out the Brown documents the fine-tuning dev sets and examples use', () => {
  const idOf = (file: string): string => /^brown-[a-z_]+-(c[a-r]\d\d)\.txt$/.exec(file)?.[1] ?? '';
  const pretrainBrown = readdirSync(join(dir, 'corpus')).filter((f) => f.startsWith('brown-')).map(idOf);
  const heldout = readdirSync(join(dir, 'heldout')).map(idOf);
  assert.equal(pretrainBrown.length, QUICK_SCALE.corpusDocs.brown);
  assert.equal(heldout.length, QUICK_SCALE.heldoutDocs);
  const dev = new Set(brownDocuments('dev').map((d) => d.id));
  assert.ok(pretrainBrown.every((id) => id !== '' && !dev.has(id)), pretrainBrown.join(' '));
  assert.ok(heldout.every((id) => dev.has(id)), heldout.join(' '));
  assert.ok(readdirSync(join(dir, 'corpus')).some((f) => f.startsWith('sotu-')) && readdirSync(join(dir, 'corpus')).some((f) => f.startsWith('mobydick-')));
});

test('the pre-training stages train for a measured budget and keep the final checkpoint only', () => {
  const report = reportData(readFileSync(first.reportFile, 'utf8'));
  const electra = report.pretraining.find((p) => p.summary.objective === 'electra')!.summary;
  for (const name of ['electra-0.1min', 'mlm-0.1min', 'electric-0.1min']) {
    const modelDir = join(dir, 'models', name);
    const checkpoints = listCheckpoints(modelDir);
    assert.equal(checkpoints.length, 1, `${name}: intermediate checkpoints are removed after the held-out evaluation`);
    const plan = JSON.parse(readFileSync(join(modelDir, 'demo-plan.json'), 'utf8')) as { numTrainSteps: number; secondsPerStep: number; stepFlops: number };
    assert.ok(plan.secondsPerStep > 0 && plan.stepFlops > 0);
    if (name.startsWith('electra')) {
      assert.equal(plan.numTrainSteps, Math.max(10, Math.floor(6 / plan.secondsPerStep)), 'steps = budget / measured step time');
    } else {
      // Masked LM and Electric: the FLOPs the ELECTRA run used.
      assert.equal(plan.numTrainSteps, Math.max(10, Math.floor((electra.stepFlops * electra.numTrainSteps) / plan.stepFlops)));
    }
    // The plan's steps, or fewer where a slowed-down machine hit the 1.5x time limit.
    const summary = report.pretraining.find((p) => p.summary.modelName === name)!.summary;
    assert.equal(checkpoints[0]!.step, summary.numTrainSteps);
    assert.equal(summary.plannedSteps, plan.numTrainSteps);
    assert.ok(summary.numTrainSteps <= plan.numTrainSteps && summary.numTrainSteps > 0);
  }
  // ELECTRA fine-tunes its discriminator, the masked-LM model its generator.
  assert.ok(existsSync(join(dir, 'models', 'electra-0.1min', 'finetuning_models', 'brown_genre_model_1', 'config.json')));
  assert.ok(existsSync(join(dir, 'models', 'mlm-0.1min', 'results', 'brown_pos_results.json')));
  assert.ok(existsSync(join(dir, 'models', 'random-init', 'results', 'brown_genre_results.json')));
  // Electric: a discriminator (held-out AUC) fine-tuned like ELECTRA's; its cloze generator has no HF folder.
  const electric = report.pretraining.find((p) => p.summary.objective === 'electric')!.summary;
  assert.ok(electric.heldout.every((h) => h.disc_auc !== null && h.disc_auc >= 0 && h.disc_auc <= 1));
  assert.ok(!existsSync(join(electric.finalCheckpoint, 'generator')));
  assert.ok(existsSync(join(dir, 'models', 'electric-0.1min', 'finetuning_models', 'brown_genre_model_1', 'config.json')));
});

test('report.html is self-contained: Chart.js inlined, the curves and examples as data', () => {
  const html = readFileSync(first.reportFile, 'utf8');
  assert.ok(html.includes(chartJsBundle()), 'the Chart.js bundle is inlined verbatim');
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=|https?:\/\/[^"\s]*\.(js|css)/, 'nothing loaded from elsewhere');
  for (const id of ['chart-loss', 'chart-disc', 'chart-lr', 'chart-tps', 'chart-mlm', 'chart-finetune']) {
    assert.ok(html.includes(`<canvas id="${id}">`), id);
  }
  const data = reportData(html);
  const electra = data.pretraining.find((p) => p.summary.objective === 'electra')!;
  const logged = readFileSync(join(dir, 'models', 'electra-0.1min', METRICS_FILE), 'utf8').trim().split('\n').length;
  assert.equal(electra.metrics.length, logged, 'every line of the metrics log is charted');
  for (const key of ['masked_lm_loss', 'disc_loss', 'disc_accuracy', 'learning_rate', 'tokens_per_second'] as const) {
    assert.ok(electra.metrics.every((e) => Number.isFinite(e[key])), key);
  }
  // Step 0 and every checkpoint evaluated on held-out text (fewer checkpoints where a loaded machine hit the 1.5x time limit).
  const steps = electra.summary.heldout.map((h) => h.step);
  assert.equal(steps[0], 0);
  assert.equal(steps[steps.length - 1], electra.summary.numTrainSteps);
  assert.ok(steps.every((s, i) => i === 0 || s > steps[i - 1]!), steps.join(' '));
  if (electra.summary.numTrainSteps === electra.summary.plannedSteps) assert.equal(steps.length, QUICK_SCALE.evalPoints + 1, steps.join(' '));
  for (const h of electra.summary.heldout) assert.ok(h.disc_auc !== null && h.disc_auc >= 0 && h.disc_auc <= 1);
  const mlm = data.pretraining.find((p) => p.summary.objective === 'mlm')!;
  assert.ok(mlm.summary.heldout.every((h) => h.disc_auc === null), 'a masked-LM model has no discriminator');
  // Example sentences: tokens with probabilities, the corrupted ones showing both tokens.
  assert.equal(electra.summary.examples.length, QUICK_SCALE.examples);
  const tokens = electra.summary.examples.flatMap((e) => e.tokens);
  assert.ok(tokens.every((t) => t.prob >= 0 && t.prob <= 1));
  assert.ok(tokens.some((t) => t.masked), 'the generator predicted some positions');
  for (const t of tokens.filter((x) => x.replaced)) {
    assert.notEqual(t.shown, t.original);
    assert.ok(html.includes(`data-orig="${t.original.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}"`));
  }
  assert.equal(data.table.rows.length, 2);
});

test('the table, results.md and report say how many updates ran and why: planned from the time budget by default', () => {
  // Precision auto: bf16 where this CPU runs VDPBF16PS, and the reason says so.
  const planned = /ELECTRA 0\.1min: (\d+) pre-training updates( of \d+ planned \(out of time\))? \(planned from a budget of 0\.1 min at \d+\.\d ms\/update( \(the pace of updates \d+-\d+; \d+\.\d measured first\))?(, in bf16)?\)/;
  const n = Number(planned.exec(first.tableText)?.[1]);
  const electra = reportData(readFileSync(first.reportFile, 'utf8')).pretraining.find((p) => p.summary.objective === 'electra')!.summary;
  assert.equal(n, electra.numTrainSteps, first.tableText);
  assert.equal(/, in bf16\)/.test(first.tableText), demoPrecision('auto', undefined, kernels()) === 'bf16');
  assert.match(first.tableText, /MLM 0\.1min: \d+ pre-training updates.* \(the ELECTRA run's compute, \d+\.\d\d TFLOP at \d+\.\d\d GFLOP\/update(, in bf16)?\)/);
  assert.match(readFileSync(first.resultsFile, 'utf8'), planned);
  assert.match(readFileSync(first.reportFile, 'utf8'), /<td>planned from a budget of 0\.1 min at \d+\.\d ms\/update( \(the pace of updates \d+-\d+; \d+\.\d measured first\))?(, in bf16)?<\/td>/);
});

test('a second run reuses every stage and leaves their outputs alone', async () => {
  const ckpt = listCheckpoints(join(dir, 'models', 'electra-0.1min'))[0]!;
  const mtime = statSync(join(ckpt.dir, 'discriminator', 'model.safetensors')).mtimeMs;
  const vocabTime = statSync(join(dir, 'vocab.txt')).mtimeMs;
  const again = await runDemo({ outputDir: dir, quick: true, minutes: 0.1, compareMlm: true, compareElectric: true, seed: 3, log: () => {}, progressStream: silent });
  assert.ok(again.stages.every((s) => s.reused), again.stages.filter((s) => !s.reused).map((s) => s.stage).join(', '));
  assert.ok(again.seconds < 10, `rerun took ${again.seconds} s`);
  assert.deepEqual(again.table, first.table);
  assert.equal(statSync(join(ckpt.dir, 'discriminator', 'model.safetensors')).mtimeMs, mtime);
  assert.equal(statSync(join(dir, 'vocab.txt')).mtimeMs, vocabTime);
});

test('electra demo on the command line reuses the finished stages and prints the table', () => {
  const r = spawnSync(process.execPath, [cli, 'demo', '--quick', '--minutes', '0.1', '--compare-mlm', '--compare-electric', '--seed', '3', '--output-dir', dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal((r.stdout.match(/\(reused\)/g) ?? []).length, 14);
  assert.match(r.stdout, /brown_genre\s+accuracy/);
  assert.match(r.stdout, /report: .*report\.html/);
});

test('a new seed reruns pre-training and fine-tuning but reuses the data stages', async () => {
  const r = await runDemo({ outputDir: dir, quick: true, minutes: 0.05, seed: 4, log: () => {}, progressStream: silent });
  const reused = r.stages.filter((s) => s.reused).map((s) => s.stage);
  assert.deepEqual(reused, ['corpus', 'vocab', 'dataset']);
  assert.ok(existsSync(join(dir, 'models', 'electra-0.05min', 'demo-plan.json')));
});

test('--updates fixes the pre-training length: exactly that many updates, whatever the machine measured', async () => {
  const r = await runDemo({ outputDir: dir, quick: true, updates: 14, seed: 3, compareMlm: true, log: () => {}, progressStream: silent });
  assert.deepEqual(r.stages.filter((s) => s.reused).map((s) => s.stage), ['corpus', 'vocab', 'dataset']);
  const modelDir = join(dir, 'models', 'electra-14updates');
  const plan = JSON.parse(readFileSync(join(modelDir, 'demo-plan.json'), 'utf8')) as { numTrainSteps: number; reason: string };
  assert.deepEqual([plan.numTrainSteps, plan.reason], [14, 'fixed by --updates']);
  assert.deepEqual(listCheckpoints(modelDir).map((c) => c.step), [14]);
  assert.match(r.stages.find((s) => s.stage === 'pretrain-electra')!.summary, /: 14 updates \(fixed by --updates\) of /);
  assert.match(r.tableText, /task\s+metric\s+ELECTRA 14updates\s+random init\s+MLM 14updates/);
  assert.match(r.tableText, /^ELECTRA 14updates: 14 pre-training updates \(fixed by --updates\)$/m);
  assert.match(readFileSync(r.resultsFile, 'utf8'), /14 updates of pre-training, seed 3/);
  assert.match(readFileSync(r.reportFile, 'utf8'), /<td class="num">14<\/td><td>fixed by --updates<\/td>/);
  // The command line takes the flag (and reuses what the call above finished).
  const cliRun = spawnSync(process.execPath, [cli, 'demo', '--quick', '--updates', '14', '--compare-mlm', '--seed', '3', '--output-dir', dir], { encoding: 'utf8' });
  assert.equal(cliRun.status, 0, cliRun.stderr);
  assert.match(cliRun.stdout, /\[pretrain-electra\] .*14 updates \(fixed by --updates\).*\(reused\)/);
  assert.match(cliRun.stdout, /ELECTRA 14updates: 14 pre-training updates \(fixed by --updates\)/);
  for (const bad of [['--updates', '0'], ['--updates', '2.5'], ['--updates', '5', '--minutes', '1']]) {
    const b = spawnSync(process.execPath, [cli, 'demo', ...bad, '--output-dir', join(dir, 'never')], { encoding: 'utf8' });
    assert.equal(b.status, 2, b.stderr);
    assert.match(b.stderr, /updates must be an integer in \[1, 10000000\]|--minutes and --updates exclude each other/);
  }
  assert.ok(!existsSync(join(dir, 'never')));
});

test('--precision bf16 pre-trains every objective in bf16 and says so; the flag is checked before any work', async () => {
  const r = await runDemo({ outputDir: dir, quick: true, updates: 6, seed: 3, compareMlm: true, precision: 'bf16', log: () => {}, progressStream: silent });
  for (const objective of ['electra', 'mlm']) {
    const modelDir = join(dir, 'models', `${objective}-6updates`);
    const hparams = JSON.parse(readFileSync(join(modelDir, 'hparams.json'), 'utf8')) as { precision: string };
    assert.equal(hparams.precision, 'bf16', objective);
    assert.match(r.stages.find((s) => s.stage === `pretrain-${objective}`)!.summary, objective === 'electra' ? /: 6 updates \(fixed by --updates, in bf16\) of / : /GFLOP\/update, in bf16\) of /);
  }
  assert.match(r.tableText, /^ELECTRA 6updates: 6 pre-training updates \(fixed by --updates, in bf16\)$/m);
  // The same count in fp32 (what auto gives with --updates) is another run.
  const fp32 = await runDemo({ outputDir: dir, quick: true, updates: 6, seed: 3, log: () => {}, progressStream: silent });
  assert.equal(fp32.stages.find((s) => s.stage === 'pretrain-electra')!.reused, false);
  const hparams = JSON.parse(readFileSync(join(dir, 'models', 'electra-6updates', 'hparams.json'), 'utf8')) as { precision: string };
  assert.equal(hparams.precision, 'fp32');
  const bad = spawnSync(process.execPath, [cli, 'demo', '--precision', 'fp16', '--output-dir', join(dir, 'never')], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--precision must be one of auto, fp32, bf16, got 'fp16'/);
  assert.ok(!existsSync(join(dir, 'never')));
});

test('electra demo checks its flags', () => {
  const bad = spawnSync(process.execPath, [cli, 'demo', '--minutes', 'soon'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--minutes expects a number/);
  const zero = spawnSync(process.execPath, [cli, 'demo', '--minutes', '0', '--output-dir', join(dir, 'never')], { encoding: 'utf8' });
  assert.equal(zero.status, 2);
  assert.match(zero.stderr, /minutes must be a number in \(0, 1440\]/);
  assert.ok(!existsSync(join(dir, 'never')), 'nothing is written before the options are checked');
  const help = spawnSync(process.execPath, [cli, 'demo', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--compare-mlm/);
  assert.match(help.stdout, /--compare-electric/);
});

/** Kernels whose GEMMs (every gemm* method) stall 2 ms each while `stalls` lasts, as if another job held the core. */
function stallingKernels(k: Kernels): { kernels: Kernels; stall: (calls: number) => void; calls: () => number } {
  let stalls = 0;
  let calls = 0;
  const kernels = new Proxy(k, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== 'string' || !prop.startsWith('gemm') || typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls++;
        if (stalls > 0) {
          stalls--;
          const until = performance.now() + 2;
          while (performance.now() < until);
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { kernels, stall: (n) => { stalls = n; }, calls: () => calls };
}

test('a plan that the run\'s own pace contradicts is made again from that pace, and the run starts afresh', async () => {
  const hp = resolvePretrainingHparams(pretrainingHparamValues(QUICK_SCALE, 'electra', readManifest(join(dir, 'pretrain_tfrecords')).vocab.size, 1, 1000), dir, 'pace-test').hparams;
  const busy = stallingKernels(kernels());
  measureStep(hp, busy.kernels, 1, 1);
  // The calibration (at most 2 measurements of 7 updates) stalls; the run does not.
  busy.stall(14 * (busy.calls() / 2));
  const r = await runDemo({ outputDir: dir, quick: true, minutes: 0.1, seed: 5, precision: 'fp32', kernels: busy.kernels, log: () => {}, progressStream: silent });
  const plan = JSON.parse(readFileSync(join(dir, 'models', 'electra-0.1min', 'demo-plan.json'), 'utf8')) as { numTrainSteps: number; reason: string; secondsPerStep: number };
  const paced = /^planned from a budget of 0\.1 min at (\d+\.\d) ms\/update \(the pace of updates (\d+)-(\d+); (\d+\.\d) measured first\)/.exec(plan.reason);
  assert.ok(paced, plan.reason);
  assert.ok(Number(paced[4]) > 1.25 * Number(paced[1]), plan.reason);
  assert.equal(plan.numTrainSteps, Math.max(10, Math.floor(6 / plan.secondsPerStep)));
  assert.match(readFileSync(join(dir, 'demo.log'), 'utf8'), /electra: \d+\.\d ms per update at updates \d+-\d+ against \d+\.\d measured first: starting again with \d+ updates/);
  // One run of the new plan's length: the aborted start left no checkpoint behind.
  const summary = r.stages.find((s) => s.stage === 'pretrain-electra')!.summary;
  assert.match(summary, new RegExp(`: ${plan.numTrainSteps} updates \\(planned`));
  assert.deepEqual(listCheckpoints(join(dir, 'models', 'electra-0.1min')).map((c) => c.step), [plan.numTrainSteps]);
});

test('the update time is the fastest of several rounds: a burst of other work in one round does not set the plan', () => {
  const k = kernels();
  const hp = resolvePretrainingHparams(pretrainingHparamValues(QUICK_SCALE, 'electra', readManifest(join(dir, 'pretrain_tfrecords')).vocab.size, 1, 1000), dir, 'measure-test').hparams;
  const busy = stallingKernels(k);
  measureStep(hp, busy.kernels, 1, 1);
  const perUpdate = busy.calls() / 2;
  // The untimed first update and the first round (2 updates) stall.
  busy.stall(3 * perUpdate);
  const oneRound = measureStep(hp, busy.kernels, 2, 1).secondsPerStep;
  busy.stall(3 * perUpdate);
  const threeRounds = measureStep(hp, busy.kernels, 2, 3).secondsPerStep;
  assert.ok(oneRound >= (2 * perUpdate) / 1000, `one round: ${oneRound} s, at least ${perUpdate} stalls of 2 ms`);
  assert.ok(threeRounds < oneRound / 2, `three rounds: ${threeRounds} s against one round's ${oneRound} s`);
});
