// The recipe experiment (npm run experiment) end to end at the smoke-test scale: every arm
// pre-trains and fine-tunes, results are appended one line a run, a rerun skips every finished run,
// --report-only prints the recorded table, a lost or cut-off record is redone, and budgets in minutes become updates at the given speed.
// Scores at this scale mean nothing and are not asserted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../src/errors.js';
import { QUICK_SCALE } from '../../src/demo/settings.js';
import {
  experimentOptions, FINETUNE_RECIPES, RECIPES, RESULTS_FILE, runExperiment, spamTrainText, type ExperimentOptions, type ExperimentResult,
} from '../../experiments/recipe.js';
import { spamAssassinExamples } from '../../src/finetune/data/spam-assassin.js';
import { readManifest } from '../../src/data/manifest.js';

let dir: string;
let options: ExperimentOptions;
let first: ExperimentResult;
const log: string[] = [];

function records(): Record<string, unknown>[] {
  return readFileSync(join(dir, RESULTS_FILE), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'electra-experiment-'));
  options = {
    outputDir: dir, scale: QUICK_SCALE, budgets: { updates: [20] }, arms: ['random', 'electra:demo', 'mlm:t2'],
    recipes: RECIPES, finetune: 'demo', finetuneRecipes: FINETUNE_RECIPES, pretrainSeeds: [1], finetuneSeeds: [1, 2],
    tasks: ['spam_assassin', 'brown_genre', 'brown_pos'], progress: false, log: (l) => log.push(l),
  };
  first = await runExperiment(options);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('every arm is pre-trained and fine-tuned on every task and seed, one record a run', () => {
  const rs = records();
  const pre = rs.filter((r) => r['kind'] === 'pretrain');
  const ft = rs.filter((r) => r['kind'] === 'finetune');
  // mlm:t2 needs the ELECTRA run of recipe t2 for its FLOPs.
  assert.deepEqual(pre.map((r) => r['arm']).sort(), ['electra:demo', 'electra:t2', 'mlm:t2']);
  assert.equal(ft.length, 3 * 3 * 2);
  assert.equal(first.newRuns, pre.length + ft.length);
  assert.equal(first.skippedRuns, 0);
  for (const r of ft) assert.ok(typeof r['accuracy'] === 'number' && r['accuracy'] >= 0 && r['accuracy'] <= 100);
  for (const r of pre) assert.ok(typeof r['clsCosine'] === 'number' && Math.abs(r['clsCosine']) <= 1 + 1e-6);
  // Masked LM trained for its ELECTRA run's FLOPs, to within one of its own updates.
  const flops = (arm: string): { total: number; step: number } => {
    const r = pre.find((p) => p['arm'] === arm)!;
    return { total: (r['stepFlops'] as number) * (r['updates'] as number), step: r['stepFlops'] as number };
  };
  assert.ok(Math.abs(flops('mlm:t2').total - flops('electra:t2').total) <= flops('mlm:t2').step);
  assert.equal(pre.find((p) => p['arm'] === 'electra:demo')!['updates'], 20);
});

test('the cells are medians and ranges of the recorded scores, and the table shows every arm', () => {
  const ft = records().filter((r) => r['kind'] === 'finetune');
  assert.equal(first.cells.length, 3 * 3);
  for (const c of first.cells) {
    const scores = ft.filter((r) => r['task'] === c.task && r['arm'] === c.arm).map((r) => r['accuracy'] as number).sort((a, b) => a - b);
    assert.equal(c.n, 2);
    assert.equal(c.median, (scores[0]! + scores[1]!) / 2);
    assert.deepEqual([c.min, c.max], [scores[0], scores[1]]);
  }
  for (const arm of ['random', 'electra:demo', 'mlm:t2']) assert.ok(first.table.includes(arm));
  assert.match(first.table, /held-out AUC/);
});

test('a rerun skips every finished run; a lost record and a cut-off last line are redone', async () => {
  const before = readFileSync(join(dir, RESULTS_FILE), 'utf8');
  const again = await runExperiment(options);
  assert.equal(again.newRuns, 0);
  assert.equal(again.skippedRuns, first.newRuns);
  assert.deepEqual(again.cells, first.cells);
  assert.equal(readFileSync(join(dir, RESULTS_FILE), 'utf8'), before);
  // --report-only reads the same cells back and runs nothing, not even the data stages.
  const lines0 = log.length;
  const report = await runExperiment({ ...options, reportOnly: true });
  assert.deepEqual([report.newRuns, report.skippedRuns, report.cells], [0, 0, first.cells]);
  assert.ok(!log.slice(lines0).some((l) => l.startsWith('[')), 'no stage ran');

  // Drop the last fine-tuning record and leave half a line, as a crash mid-write would.
  const lines = before.split('\n').filter((l) => l !== '');
  const lost = lines.pop()!;
  writeFileSync(join(dir, RESULTS_FILE), lines.join('\n') + '\n' + lost.slice(0, 20));
  const resumed = await runExperiment(options);
  assert.equal(resumed.newRuns, 1);
  const redone = records().at(-1)!;
  const original = JSON.parse(lost) as Record<string, unknown>;
  assert.equal(redone['id'], original['id']);
  // Same seed, same result.
  assert.equal(redone['accuracy'], original['accuracy']);
});

test('a budget in minutes becomes updates at the given speed (a recipe\'s own where given), recorded once', async () => {
  const o: ExperimentOptions = {
    ...options, budgets: { minutes: [0.005], msPerUpdate: 20, msPerUpdateByRecipe: { bf16: 10 } }, arms: ['electra:demo', 'electra:bf16'],
    finetuneSeeds: [1], tasks: ['brown_pos'],
  };
  const r = await runExperiment(o);
  const rs = records();
  const budget = (recipe: string): unknown[] => {
    const b = rs.find((x) => x['kind'] === 'budget' && x['recipe'] === recipe)!;
    return [b['minutes'], b['msPerUpdate'], b['updates'], b['measured']];
  };
  assert.deepEqual(budget('demo'), [0.005, 20, 15, false]);
  assert.deepEqual(budget('bf16'), [0.005, 10, 30, false]);
  const run = (arm: string): Record<string, unknown> => rs.find((x) => x['kind'] === 'pretrain' && x['budget'] === '0.005min' && x['arm'] === arm)!;
  assert.equal(run('electra:demo')['updates'], 15);
  assert.equal(run('electra:bf16')['updates'], 30);
  // The recipe's precision reaches pre-training.
  const hparams = (arm: string): Record<string, unknown> =>
    JSON.parse(readFileSync(join(run(arm)['checkpoint'] as string, '..', 'hparams.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(hparams('electra:bf16')['precision'], 'bf16');
  assert.equal(hparams('electra:demo')['precision'], 'fp32');
  assert.equal(r.newRuns, 4);
  assert.ok(log.some((l) => l.includes('budget 0.005min, recipe demo: 15 updates at 20.0 ms/update (given)')));
  assert.ok(log.some((l) => l.includes('budget 0.005min, recipe bf16: 30 updates at 10.0 ms/update (given)')));
});

test('the command line: budgets, recipes given as JSON, and mistakes named before any work', async () => {
  const o = experimentOptions(['--minutes', '30,60', '--ms-per-update', '35.5', '--recipe', 'hot={"temperature":5}', '--arms', 'random,electra:hot', '--quick']);
  assert.deepEqual(o.budgets, { minutes: [30, 60], msPerUpdate: 35.5 });
  assert.deepEqual(experimentOptions(['--minutes', '30', '--ms-per-update', '37.2,bf16=26.8']).budgets, { minutes: [30], msPerUpdate: 37.2, msPerUpdateByRecipe: { bf16: 26.8 } });
  for (const bad of ['35,36', 'bf16=x', '0', 'bf16=-1']) {
    assert.throws(() => experimentOptions(['--minutes', '30', '--ms-per-update', bad]), /--ms-per-update must be a positive number/);
  }
  assert.deepEqual(o.recipes['hot'], { temperature: 5 });
  assert.deepEqual(o.finetuneSeeds, [1, 2, 3]);
  assert.equal(o.scale.name, 'quick');
  assert.throws(() => experimentOptions(['--arms', 'random']), /one of --updates and --minutes/);
  assert.throws(() => experimentOptions(['--updates', '10,x']), /positive integers/);
  assert.throws(() => experimentOptions(['--updates', '10', '--recipe', 'bad={']), /NAME=/);
  const fresh = join(dir, 'never');
  for (const [arms, message] of [[['electra:nosuch'], /unknown recipe 'nosuch'/], [['bert:demo'], /not random, electra:<recipe>/]] as const) {
    await assert.rejects(runExperiment({ ...options, outputDir: fresh, arms: [...arms] }), (e: unknown) => e instanceof UsageError && message.test(e.message));
  }
  await assert.rejects(runExperiment({ ...options, outputDir: fresh, finetune: 'nosuch' }), /unknown fine-tuning recipe/);
  await assert.rejects(runExperiment({ ...options, outputDir: fresh, budgets: { minutes: [1], msPerUpdate: 30, msPerUpdateByRecipe: { nosuch: 20 } } }),
    (e: unknown) => e instanceof UsageError && /--ms-per-update: unknown recipe 'nosuch'/.test(e.message));
  assert.equal(existsSync(fresh), false);
});

test('the data-mix recipe pre-trains on the demo text plus the train-split e-mails, built once', async () => {
  const text = spamTrainText();
  const docs = text.trimEnd().split('\n\n');
  const train = spamAssassinExamples('train');
  assert.equal(docs.length, train.length);
  // Every e-mail's words, in order, in lines of at most 12.
  docs.forEach((d, i) => {
    assert.ok(d.split('\n').every((line) => line.split(' ').length <= 12));
    assert.equal(d.split(/\s+/).join(' '), train[i]!.textA.split(/\s+/).filter((w) => w !== '').join(' '));
  });
  const dev = new Set(spamAssassinExamples('dev').map((e) => e.textA.split(/\s+/).filter((w) => w !== '').join(' ').toLowerCase()));
  assert.ok(docs.every((d) => !dev.has(d.split(/\s+/).join(' ').toLowerCase())), 'no dev e-mail is pre-trained on');

  const o: ExperimentOptions = { ...options, arms: ['electra:mix'], finetuneSeeds: [1], tasks: ['brown_pos'] };
  const r = await runExperiment(o);
  assert.equal(r.newRuns, 2);
  const mixData = join(dir, 'mix-spam_train', 'pretrain_tfrecords');
  const hp = JSON.parse(readFileSync(join(dir, 'models', 'electra-mix-20updates-s1', 'hparams.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(hp['pretrain_tfrecords'], mixData);
  assert.equal(hp['data_mix'], undefined);
  const plain = readManifest(join(dir, 'pretrain_tfrecords')).counts.examples;
  assert.ok(readManifest(mixData).counts.examples > plain + 1000, 'the e-mails add examples');
  assert.equal(readFileSync(join(dir, 'mix-spam_train', 'corpus', 'spam-train-emails.txt'), 'utf8'), text);
  // A rerun builds nothing and runs nothing.
  const lines0 = log.length;
  const again = await runExperiment(o);
  assert.equal(again.newRuns, 0);
  assert.ok(!log.slice(lines0).some((l) => l.startsWith('[mix-spam_train]') && !l.endsWith('(reused)')), 'the mix is not rebuilt');
  await assert.rejects(runExperiment({ ...o, outputDir: join(dir, 'never'), recipes: { ...RECIPES, bad: { data_mix: 'web' } }, arms: ['electra:bad'] }),
    (e: unknown) => e instanceof UsageError && /data_mix must be one of spam_train, got "web"/.test(e.message));
});
