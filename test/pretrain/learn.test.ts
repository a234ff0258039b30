// "It must learn": the debug ELECTRA pre-trained on a slice of the Brown corpus (bert-base-uncased
// vocabulary, built by the real dataset builder) for 200 updates. Its discriminator must detect
// replaced tokens: eval disc_accuracy above the all-real baseline and disc_auc well above the
// untrained model's ~0.5. Temperature 3 keeps the generator's samples varied: at temperature 1
// the generator reaches unigram quality within ~50 updates and the discriminator then needs far
// more than a unit test's budget to learn context (measured: AUC 0.57 after 150 updates).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { resolvePretrainingHparams } from '../../src/pretrain/hparams.js';
import { runPretraining, type StepLog } from '../../src/pretrain/run.js';
import { loadDiscriminator } from '../../src/pretrain/load.js';
import { makeBrownDataDir, tempDir } from './fixtures.js';

// One compute thread unless told otherwise: the results are the same for any thread count,
// and on a shared, oversubscribed CPU the native pool's per-call barrier makes two threads ~8x
// slower than one (measured: 82-155 s versus 11 s for these 200 updates at load 8 on 2 cores).
// The pool reads this when the first kernel runs, after the imports.
process.env['ELECTRA_THREADS'] ??= '1';

const root = tempDir('learn');
after(() => root.cleanup());

test('the debug model pre-trained on Brown detects replaced tokens', async () => {
  const dataDir = root.dir;
  const base = await makeBrownDataDir(dataDir);
  const quiet = { progress: false, log: (): void => {} };
  // The untrained model, evaluated on the same eval batches.
  const before = await runPretraining(resolvePretrainingHparams({ ...base, do_train: false }, dataDir, 'untrained').hparams, quiet);
  const steps: StepLog[] = [];
  const started = Date.now();
  const trained = await runPretraining(resolvePretrainingHparams(base, dataDir, 'debug').hparams, { ...quiet, onStep: (e) => steps.push(e) });
  const seconds = (Date.now() - started) / 1000;
  const b = before.eval!;
  const a = trained.eval!;
  const baseline = trained.evalExtras!.disc_all_real_accuracy;
  const exact = [before.evalExtras!.disc_auc_real_tokens, trained.evalExtras!.disc_auc_real_tokens];
  const summary = `untrained auc ${b.disc_auc.toFixed(3)} acc ${b.disc_accuracy.toFixed(3)}; trained auc ${a.disc_auc.toFixed(3)} ` +
    `acc ${a.disc_accuracy.toFixed(3)} (all-real ${baseline.toFixed(3)}) precision ${a.disc_precision.toFixed(3)}; ` +
    `exact AUC over real tokens ${exact[0]!.toFixed(3)} -> ${exact[1]!.toFixed(3)}; ` +
    `masked_lm_loss ${b.masked_lm_loss.toFixed(2)} -> ${a.masked_lm_loss.toFixed(2)}; ${seconds.toFixed(0)} s for 200 updates`;
  console.log(summary);

  assert.equal(trained.step, 200);
  assert.ok(b.disc_auc < 0.6, `the untrained discriminator ranks at chance: ${summary}`);
  assert.ok(a.disc_auc > 0.75, `disc_auc must rise well above 0.5: ${summary}`);
  // Not thanks to padding (the reference's AUC counts it as easy negatives): real tokens alone too.
  assert.ok(exact[0]! < 0.6 && exact[1]! > 0.75, `exact AUC over real tokens: ${summary}`);
  // Beating the all-real baseline means flagging tokens with precision above 1/2; ask for some margin.
  assert.ok(a.disc_accuracy > baseline, `disc_accuracy must beat calling everything real: ${summary}`);
  assert.ok(a.disc_precision > 0.55, `most of the tokens it flags are replaced: ${summary}`);
  // The generator learns too: from ~log(30522) = 10.3 to well below.
  assert.ok(b.masked_lm_loss > 10 && a.masked_lm_loss < 8.5, summary);
  assert.ok(steps.every((e) => Number.isFinite(e.loss)));

  // The checkpoint's discriminator, loaded for inference, flags an out-of-place word more than its neighbours.
  const disc = loadDiscriminator(join(dataDir, 'models', 'debug'));
  const odd = disc.discriminateText('the jury said it did not find any xylophone that the election was conducted .');
  const pieces = odd.tokens.map((t, i) => [t, i] as const).filter(([t]) => ['x', '##yl', '##ophone'].includes(t)).map(([, i]) => i);
  assert.equal(pieces.length, 3, odd.tokens.join(' '));
  const others = odd.tokens.map((_, i) => i).filter((i) => !pieces.includes(i) && i > 0 && i < odd.tokens.length - 1);
  const mean = (ix: number[]): number => ix.reduce((s, i) => s + odd.probs[i]!, 0) / ix.length;
  const shown = odd.tokens.map((t, i) => `${t}:${odd.probs[i]!.toFixed(2)}`).join(' ');
  console.log(shown);
  assert.ok(mean(pieces) > mean(others), `the out-of-place word looks more replaced than the rest: ${shown}`);
});
