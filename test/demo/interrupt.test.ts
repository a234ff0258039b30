// Ctrl-C during the demo's fine-tuning (a real SIGINT, which the process sends itself after a
// chosen update so the test does not depend on timing): the update finishes, a checkpoint is
// saved, the process exits 130 without recording the stage or writing results; rerunning the
// same command reuses the finished stages, resumes the interrupted one from its checkpoint and
// ends with the same weights as fine-tuning that was never interrupted. Aborting runDemo's signal
// during pre-training does the same for the pre-training stage.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { demoFinetune, type FinetuneSummary } from '../../src/demo/finetune.js';
import { runDemo } from '../../src/demo/run.js';
import { QUICK_SCALE } from '../../src/demo/settings.js';
import { DemoInterrupted, STAGES_DIR } from '../../src/demo/stages.js';
import { listCheckpoints } from '../../src/pretrain/checkpoint.js';
import { readSafetensors } from '../../src/io/safetensors.js';
import { kernels } from '../../src/kernels/index.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = join(repoRoot, 'bin', 'electra.js');
const dir = mkdtempSync(join(tmpdir(), 'electra-demo-sigint-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SEED = 5;
const args = [cli, 'demo', '--quick', '--minutes', '0.05', '--seed', String(SEED), '--output-dir', dir];
const STAGE = 'finetune-random-brown_genre';
// Quick scale: 48 genre passages in batches of 16, one epoch.
const STEPS = Math.ceil(QUICK_SCALE.genreTrain / QUICK_SCALE.finetuneBatchSize) * QUICK_SCALE.genreEpochs;
const trialDir = (root: string): string => join(root, 'models', 'random-init', 'finetuning_models', 'brown_genre_model_1');

test('Ctrl-C during fine-tuning stops after the update with a checkpoint, exit 130; the rerun resumes it exactly', async () => {
  assert.ok(STEPS >= 3, 'the signal comes before the last update');
  const stopped = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, ELECTRA_TEST_SIGINT_IN_FINETUNE: `${STAGE}:1` } });
  assert.equal(stopped.status, 130, stopped.stderr.slice(-2000));
  assert.match(stopped.stderr, /stopping after this update and saving a checkpoint/);
  const m = new RegExp(`electra demo: interrupted at stage ${STAGE} \\(fine-tuning brown_genre from random stopped at update (\\d+), ` +
    'checkpoint saved in .*\\): rerun the same command to resume').exec(stopped.stderr);
  assert.ok(m, stopped.stderr.slice(-2000));
  const step = Number(m[1]);
  // The signal was sent after update 1; the handler runs before the next update ends.
  assert.ok(step >= 1 && step < STEPS, `stopped at ${step}`);
  assert.deepEqual(readdirSync(trialDir(dir)), [`checkpoint-${step}`], 'the checkpoint alone: no half-written model');
  // The stages before it are recorded; it and the ones after are not, and no results were written.
  const recorded = readdirSync(join(dir, STAGES_DIR)).sort();
  assert.deepEqual(recorded, ['corpus.json', 'dataset.json', 'finetune-electra-brown_genre.json', 'pretrain-electra.json', 'vocab.json']);
  assert.equal(existsSync(join(dir, 'models', 'random-init', 'results')), false);
  for (const file of ['results.md', 'results.json', 'report.html']) assert.equal(existsSync(join(dir, file)), false, file);

  const rerun = spawnSync(process.execPath, args, { encoding: 'utf8' });
  assert.equal(rerun.status, 0, rerun.stderr.slice(-2000));
  const reused = [...rerun.stdout.matchAll(/^\[([\w-]+)\] .*\(reused\)$/gm)].map((r) => r[1]);
  assert.deepEqual(reused, ['corpus', 'vocab', 'dataset', 'pretrain-electra', 'finetune-electra-brown_genre']);
  assert.match(readFileSync(join(dir, 'demo.log'), 'utf8'), new RegExp(`resuming trial 1 from .*checkpoint-${step} \\(step ${step} of ${STEPS}\\)`));
  assert.ok(existsSync(join(dir, 'report.html')));

  // The same fine-tuning, never interrupted, in another folder: identical weights and score.
  const other = mkdtempSync(join(tmpdir(), 'electra-demo-straight-'));
  try {
    const vocabFile = join(dir, 'vocab.txt');
    const vocabSize = readFileSync(vocabFile, 'utf8').split('\n').length - 1;
    const silent = new Writable({ write: (_c, _e, cb) => cb() });
    const straight = await demoFinetune(other, QUICK_SCALE, 'brown_genre', { kind: 'random', modelName: 'random-init' }, vocabFile, vocabSize,
      SEED, kernels(), () => {}, silent);
    assert.equal(straight.trainSteps, STEPS);
    const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { finetuning: FinetuneSummary[] };
    const resumed = results.finetuning.find((f) => f.task === 'brown_genre' && f.init === 'random')!;
    assert.deepEqual(resumed.metrics, straight.metrics);
    const a = readSafetensors(join(trialDir(dir), 'model.safetensors')).tensors;
    const b = readSafetensors(join(trialDir(other), 'model.safetensors')).tensors;
    assert.deepEqual([...a.keys()], [...b.keys()]);
    for (const [name, t] of a) assert.deepEqual(t.data, b.get(name)!.data, name);
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
});

test('aborting the signal during pre-training stops it with a checkpoint; the rerun resumes it', async () => {
  const root = mkdtempSync(join(tmpdir(), 'electra-demo-abort-'));
  try {
    const silent = new Writable({ write: (_c, _e, cb) => cb() });
    const controller = new AbortController();
    const options = { outputDir: root, quick: true, minutes: 0.05, seed: SEED, progressStream: silent };
    // The stage announces itself before training: abort then, so training stops after its first update.
    const log = (line: string): void => {
      if (line.startsWith('[pretrain-electra] pre-training')) controller.abort();
    };
    await assert.rejects(runDemo({ ...options, log, signal: controller.signal }), (e: unknown) => {
      assert.ok(e instanceof DemoInterrupted, String(e));
      assert.equal(e.stage, 'pretrain-electra');
      assert.match(e.message, /pre-training stopped at update 1 of \d+, checkpoint saved in .*checkpoint-1\): rerun the same command to resume/);
      return true;
    });
    const modelDir = join(root, 'models', 'electra-0.05min');
    assert.deepEqual(listCheckpoints(modelDir).map((c) => c.step), [1]);
    assert.deepEqual(readdirSync(join(root, STAGES_DIR)).sort(), ['corpus.json', 'dataset.json', 'vocab.json']);
    assert.match(readFileSync(join(root, 'demo.log'), 'utf8'), /interrupted at stage pretrain-electra/);

    const stages: string[] = [];
    const done = await runDemo({ ...options, log: (l) => stages.push(l) });
    assert.deepEqual(done.stages.filter((s) => s.reused).map((s) => s.stage), ['corpus', 'vocab', 'dataset']);
    assert.match(readFileSync(join(root, 'demo.log'), 'utf8'), /resuming from .*checkpoint-1 \(step 1\)/);
    const plan = JSON.parse(readFileSync(join(modelDir, 'demo-plan.json'), 'utf8')) as { numTrainSteps: number };
    // Trained on from step 1, to the plan's step count unless a loaded machine hit the 1.5x time limit.
    const last = listCheckpoints(modelDir).at(-1)!.step;
    assert.ok(last > 1 && last <= plan.numTrainSteps, `last checkpoint ${last}, plan ${plan.numTrainSteps}`);
    assert.ok(existsSync(done.reportFile));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
