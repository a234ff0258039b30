// The demo's pre-training: a step count derived from a measured step time so the run fits the
// budget, `runPretraining` (the library's `electra pretrain`), then every checkpoint evaluated on
// held-out Brown text (the curve of the discriminator's AUC), and example sentences corrupted by
// the generator with the discriminator's per-token probabilities.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openPretrainingDataset } from '../data/pretraining-dataset.js';
import { brownDocuments } from '../finetune/data/brown.js';
import { writeFileAtomic } from '../io/files.js';
import type { Kernels } from '../kernels/index.js';
import { loadAddon } from '../kernels/native/addon.js';
import { discriminatorConfig, generatorConfig } from '../model/config.js';
import { pretrainingStepFlops } from '../model/flops.js';
import type { PretrainingInputs } from '../model/pretraining-model.js';
import { listCheckpoints, restoreCheckpoint } from '../pretrain/checkpoint.js';
import { resolvePretrainingHparams, type PretrainingHparams } from '../pretrain/hparams.js';
import { Pretrainer } from '../pretrain/pretrainer.js';
import { checkRunInputs, evaluate, METRICS_FILE, runPretraining, type StepLog } from '../pretrain/run.js';
import { BertTokenizer } from '../tokenizer/tokenizer.js';
import { modelShape, withOverrides, type DemoScale } from './settings.js';
import { DemoInterrupted, stageId } from './stages.js';

export type Objective = 'electra' | 'mlm' | 'electric';

/** Whether an objective trains a discriminator (ELECTRA and Electric do). */
export function trainsDiscriminator(objective: Objective): boolean {
  return objective !== 'mlm';
}

export interface HeldoutPoint {
  step: number;
  /** Exact ROC AUC of P(replaced) over real tokens; null for masked-LM models (no discriminator). */
  disc_auc: number | null;
  disc_accuracy: number | null;
  /** The accuracy of calling every token original, which disc_accuracy has to beat. */
  disc_all_real_accuracy: number | null;
  masked_lm_accuracy: number;
  masked_lm_loss: number;
}

/** One token of an example sentence as the discriminator saw it. */
export interface ExampleToken {
  original: string;
  /** The token the discriminator was given (the generator's sample where it replaced one). */
  shown: string;
  /** The generator predicted this position ([MASK] in its input). */
  masked: boolean;
  replaced: boolean;
  /** The discriminator's P(replaced). */
  prob: number;
}

export interface ExampleSentence {
  genre: string;
  document: string;
  text: string;
  tokens: ExampleToken[];
}

export interface PretrainSummary {
  objective: Objective;
  modelName: string;
  modelDir: string;
  /** Updates done: the plan's, or fewer when the run hit the time limit (the machine got slower). */
  numTrainSteps: number;
  plannedSteps: number;
  /** Why that many were planned, e.g. "planned from a budget of 7 min at 34.1 ms/update" or "fixed by --updates". */
  updatesReason: string;
  /** Measured before training (what the step count came from). */
  secondsPerStep: number;
  budgetSeconds: number;
  trainSeconds: number;
  stepFlops: number;
  generator: { hidden_size: number; num_hidden_layers: number };
  discriminator: { hidden_size: number; num_hidden_layers: number } | null;
  parameters: number;
  /** Native compute threads used (null: JS backend or ELECTRA_THREADS). */
  threads: number | null;
  heldout: HeldoutPoint[];
  examples: ExampleSentence[];
  finalCheckpoint: string;
}

export interface PretrainPlanFile {
  key: string;
  numTrainSteps: number;
  /** Where numTrainSteps came from (PretrainSummary.updatesReason). */
  reason: string;
  secondsPerStep: number;
  stepFlops: number;
  /** Native compute threads the run uses (the faster of all cores and one), null on the JS backend. */
  threads: number | null;
}

/**
 * Sets the native backend's thread count for the rest of this process (the choice the plan made);
 * null when the native backend is not in use or ELECTRA_THREADS fixes the count.
 */
export function nativeThreadControl(k: Kernels): ((n: number) => number) | null {
  if (k.name !== 'native' || process.env['ELECTRA_THREADS']) return null;
  const { addon } = loadAddon();
  return addon ? (n) => addon.setThreads(n) : null;
}

const PLAN_FILE = 'demo-plan.json';

/** The `--hparams` of this pre-training run (the reference's names). */
export function pretrainingHparamValues(scale: DemoScale, objective: Objective, vocabSize: number, seed: number, steps: number): Record<string, unknown> {
  const shape = modelShape(scale);
  return {
    ...shape,
    vocab_size: vocabSize,
    electra_objective: trainsDiscriminator(objective),
    ...(objective === 'electric' ? { electric_objective: true } : {}),
    ...(trainsDiscriminator(objective) ? { generator_hidden_size: scale.generatorHiddenSize } : {}),
    // Electric's log q term assumes the replacements are drawn from q itself: temperature 1.
    ...(objective === 'electra' ? { temperature: scale.temperature } : {}),
    max_seq_length: scale.maxSeqLength,
    train_batch_size: scale.trainBatchSize,
    eval_batch_size: scale.evalBatchSize,
    num_eval_steps: scale.evalBatches,
    learning_rate: scale.learningRate,
    num_train_steps: steps,
    num_warmup_steps: Math.max(1, Math.round(steps / 10)),
    // About 100 points on the curves, a checkpoint per held-out evaluation.
    iterations_per_loop: Math.max(1, Math.floor(steps / 100)),
    save_checkpoints_steps: Math.max(1, Math.ceil(steps / scale.evalPoints)),
    keep_checkpoint_max: 0,
    seed,
  };
}

function toInputs(b: { inputIds: Int32Array; segmentIds: Int32Array; inputMask: Int32Array; batchSize: number; maxSeqLength: number }): PretrainingInputs {
  return { inputIds: b.inputIds, segmentIds: b.segmentIds, inputMask: b.inputMask, batch: b.batchSize, seqLen: b.maxSeqLength };
}

/**
 * Seconds per update on real batches, the fastest of `rounds` medians over `steps` updates each
 * (after one untimed update: other work on the machine only ever slows updates down), and FLOPs per update.
 */
export function measureStep(hp: PretrainingHparams, k: Kernels, steps: number, rounds = 3): { secondsPerStep: number; stepFlops: number } {
  const ctx = checkRunInputs(hp);
  const trainer = new Pretrainer(k, hp, { maxBatch: hp.train_batch_size, maxSeqLen: hp.max_seq_length, seed: hp.seed, special: ctx.special, precision: hp.precision });
  const data = openPretrainingDataset(hp.pretrain_tfrecords, {
    maxSeqLength: hp.max_seq_length, vocabHash: ctx.vocabHash, vocabSize: ctx.vocab.size, batchSize: hp.train_batch_size, seed: hp.seed,
  });
  let best = Infinity;
  let predictions = 0;
  try {
    // The first update touches every buffer for the first time: not counted.
    trainer.trainStep(toInputs(data.nextBatch()));
    for (let round = 0; round < rounds; round++) {
      const times: number[] = [];
      for (let i = 0; i < steps; i++) {
        const inputs = toInputs(data.nextBatch());
        const t0 = performance.now();
        const r = trainer.trainStep(inputs);
        times.push((performance.now() - t0) / 1000);
        predictions += r.metrics.predictions;
      }
      times.sort((a, b) => a - b);
      best = Math.min(best, times[times.length >> 1]!);
    }
  } finally {
    data.close();
  }
  const m = trainer.model;
  const flops = pretrainingStepFlops(m.generatorConfig, m.discriminatorConfig, hp.train_batch_size, hp.max_seq_length, predictions / (steps * rounds), m.cloze !== null);
  return { secondsPerStep: best, stepFlops: flops.total };
}

export interface DemoPretrainOptions {
  outputDir: string;
  scale: DemoScale;
  objective: Objective;
  modelName: string;
  vocabSize: number;
  seed: number;
  budgetSeconds: number;
  /**
   * Train for this many FLOPs instead of budgetSeconds (the masked-LM comparison: the ELECTRA run's
   * compute, whatever the machine's speed did to either run).
   */
  flopBudget?: number;
  /** Exactly this many updates (--updates): no measurement decides the count, and no time limit stops it. */
  fixedSteps?: number;
  /** No 1.5x time limit (a count derived from a fixed one, e.g. the masked-LM run's FLOPs). */
  noTimeLimit?: boolean;
  heldoutData: string;
  /** Upstream stage ids: a plan made for other data is not reused. */
  upstream: string;
  /** Pre-training hparams (the reference's names) that replace the demo's, e.g. a recipe's temperature or mask_prob. */
  hparams?: Record<string, unknown>;
  kernels: Kernels;
  log: (line: string) => void;
  /** Progress lines for logs that are not a terminal (the bar draws itself on one). */
  note: (line: string) => void;
  /** Draw the trainer's progress bar (on stderr). */
  progressBar: boolean;
  /** When aborted (Ctrl-C), training stops after the current update and saves a checkpoint; DemoInterrupted is thrown, and a rerun resumes. */
  signal?: AbortSignal;
  /** The stage name DemoInterrupted reports. */
  stage?: string;
}

/** The update count and why: fixed, from the FLOP budget, or from the time budget at the measured speed. */
function planUpdates(o: DemoPretrainOptions, measured: { secondsPerStep: number; stepFlops: number }): { numTrainSteps: number; reason: string } {
  const plan = plannedUpdates(o, measured);
  return o.hparams?.['precision'] === 'bf16' ? { ...plan, reason: `${plan.reason}, in bf16` } : plan;
}

function plannedUpdates(o: DemoPretrainOptions, measured: { secondsPerStep: number; stepFlops: number }): { numTrainSteps: number; reason: string } {
  if (o.fixedSteps !== undefined) return { numTrainSteps: o.fixedSteps, reason: 'fixed by --updates' };
  if (o.flopBudget !== undefined) {
    return {
      numTrainSteps: Math.max(10, Math.floor(o.flopBudget / measured.stepFlops)),
      reason: `the ELECTRA run's compute, ${(o.flopBudget / 1e12).toFixed(2)} TFLOP at ${(measured.stepFlops / 1e9).toFixed(2)} GFLOP/update`,
    };
  }
  return {
    numTrainSteps: Math.max(10, Math.floor(o.budgetSeconds / measured.secondsPerStep)),
    reason: `planned from a budget of ${Number((o.budgetSeconds / 60).toFixed(3))} min at ${(measured.secondsPerStep * 1000).toFixed(1)} ms/update`,
  };
}

/** Pre-trains one model for the budget, evaluates its checkpoints on held-out text, and collects examples. */
export async function demoPretrain(o: DemoPretrainOptions): Promise<PretrainSummary> {
  const resolve = (steps: number): PretrainingHparams =>
    resolvePretrainingHparams(withOverrides(pretrainingHparamValues(o.scale, o.objective, o.vocabSize, o.seed, steps), o.hparams), o.outputDir, o.modelName).hparams;
  const modelDir = resolve(1).model_dir;
  const planPath = join(modelDir, PLAN_FILE);
  const key = stageId({
    upstream: o.upstream, objective: o.objective, budget: o.budgetSeconds, flops: o.flopBudget ?? null, seed: o.seed, scale: o.scale,
    ...(o.fixedSteps !== undefined ? { fixedSteps: o.fixedSteps } : {}), ...(o.hparams ? { hparams: o.hparams } : {}),
  });

  // The plan (step count) survives an interrupted run, so the rerun resumes the same schedule.
  let plan: PretrainPlanFile | null = null;
  if (existsSync(planPath)) {
    const p = JSON.parse(readFileSync(planPath, 'utf8')) as PretrainPlanFile;
    // A plan written before plans recorded their reason is the time budget's.
    if (p.key === key) plan = { ...p, reason: p.reason ?? planUpdates(o, p).reason };
  }
  const setThreads = nativeThreadControl(o.kernels);
  // A plan made now from the time budget is checked against the run's own pace (data loading and
  // logging included), in case the calibration's few updates were slowed or sped up.
  let checkPace = !plan && o.fixedSteps === undefined && o.flopBudget === undefined;
  if (!plan) {
    rmSync(modelDir, { recursive: true, force: true });
    const calibrationSteps = o.scale.name === 'quick' ? 2 : 8;
    let measured = measureStep(resolve(1000), o.kernels, calibrationSteps);
    let threads: number | null = setThreads ? o.kernels.threads : null;
    // Where other work keeps the cores busy, one thread can be several times faster than all of them.
    if (setThreads && o.kernels.threads > 1) {
      setThreads(1);
      const single = measureStep(resolve(1000), o.kernels, calibrationSteps);
      if (single.secondsPerStep < 0.9 * measured.secondsPerStep) {
        o.log(`${o.objective}: one compute thread is faster here (${single.secondsPerStep.toFixed(3)} s per update against ${measured.secondsPerStep.toFixed(3)} s with ${o.kernels.threads}): using one`);
        measured = single;
        threads = 1;
      } else {
        setThreads(o.kernels.threads);
      }
    }
    const { numTrainSteps, reason } = planUpdates(o, measured);
    plan = { key, numTrainSteps, reason, ...measured, threads };
    mkdirSync(modelDir, { recursive: true });
    writeFileAtomic(planPath, [JSON.stringify(plan, null, 2) + '\n']);
    o.log(`${o.objective}: ${measured.secondsPerStep.toFixed(3)} s per update measured: ${numTrainSteps} updates, ${reason}`);
  } else if (setThreads && plan.threads !== null) {
    setThreads(plan.threads);
  }
  let hp: PretrainingHparams;
  let started: number;
  let deadline: AbortController;
  let result: Awaited<ReturnType<typeof runPretraining>>;
  for (;;) {
    const run = resolve(plan.numTrainSteps);
    hp = run;
    const runStarted = performance.now();
    started = runStarted;
    let lastNote = 0;
    // The step count comes from a step time measured once; if the machine gets much slower (other
    // work), the run stops at 1.5x the budget rather than overrunning the demo.
    // A count fixed by the caller is run to the end, however long it takes.
    const stop = new AbortController();
    deadline = stop;
    const timeLimited = o.fixedSteps === undefined && !o.noTimeLimit;
    // The pace over updates [paceFrom, paceTo): 3% of the plan, past the run's start-up.
    const paceTo = checkPace ? Math.min(Math.max(150, Math.round(0.03 * run.num_train_steps)), Math.floor(run.num_train_steps / 2)) : 0;
    const paceFrom = Math.floor(paceTo / 3);
    let paceStart = 0;
    let pace: number | null = null;
    result = await runPretraining(run, {
      kernels: o.kernels,
      log: o.log,
      progress: o.progressBar,
      signal: o.signal ? AbortSignal.any([stop.signal, o.signal]) : stop.signal,
      onStep: (e: StepLog) => {
        if (timeLimited && !stop.signal.aborted && e.step < run.num_train_steps && (performance.now() - runStarted) / 1000 > 1.5 * o.budgetSeconds) {
          stop.abort();
          o.note(`  ${o.objective}: out of time (1.5x the budget) at update ${e.step} of ${run.num_train_steps}: stopping here`);
        }
        if (paceTo > paceFrom && e.step === paceFrom) paceStart = performance.now();
        if (paceTo > paceFrom && e.step === paceTo && !stop.signal.aborted) {
          const seconds = (performance.now() - paceStart) / 1000 / (paceTo - paceFrom);
          // Off by more than a fifth: a plan from this pace uses the budget better than a restart costs.
          if (Math.abs(seconds / plan!.secondsPerStep - 1) > 0.2) {
            pace = seconds;
            stop.abort();
          }
        }
        const tenth = Math.floor((10 * e.step) / run.num_train_steps);
        if (tenth > lastNote) {
          lastNote = tenth;
          o.note(`  ${o.objective} ${e.step}/${run.num_train_steps} updates: loss ${e.loss.toFixed(3)}, masked-LM acc ${e.masked_lm_accuracy.toFixed(3)}` +
            (trainsDiscriminator(o.objective) ? `, disc acc ${e.disc_accuracy.toFixed(3)}` : ''));
        }
      },
    });
    if (pace === null || o.signal?.aborted) break;
    // Planned again from the run's pace, and started afresh (the schedule depends on the count).
    const measured = { secondsPerStep: pace, stepFlops: plan.stepFlops };
    const planned = planUpdates(o, measured);
    const reason: string = planned.reason.replace(/ ms\/update/, ` ms/update (the pace of updates ${paceFrom}-${paceTo}; ${(plan.secondsPerStep * 1000).toFixed(1)} measured first)`);
    o.note(`  ${o.objective}: ${(pace * 1000).toFixed(1)} ms per update at updates ${paceFrom}-${paceTo} against ${(plan.secondsPerStep * 1000).toFixed(1)} measured first: ` +
      `starting again with ${planned.numTrainSteps} updates`);
    plan = { ...plan, numTrainSteps: planned.numTrainSteps, reason, secondsPerStep: pace };
    rmSync(modelDir, { recursive: true, force: true });
    mkdirSync(modelDir, { recursive: true });
    writeFileAtomic(planPath, [JSON.stringify(plan, null, 2) + '\n']);
    checkPace = false;
  }
  const trainSeconds = (performance.now() - started) / 1000;
  if (result.interrupted && o.signal?.aborted && result.checkpoint) {
    throw new DemoInterrupted(o.stage ?? `pretrain-${o.objective}`, `pre-training stopped at update ${result.step} of ${hp.num_train_steps}, checkpoint saved in ${result.checkpoint}`);
  }
  if (!result.checkpoint || (result.interrupted && !deadline.signal.aborted)) {
    throw new Error(`pre-training of ${o.modelName} stopped at step ${result.step}`);
  }

  const { heldout, examples, parameters } = evaluateCheckpoints(hp, o);
  // Intermediate checkpoints were kept for the held-out curve only.
  const checkpoints = listCheckpoints(modelDir);
  for (const c of checkpoints.slice(0, -1)) rmSync(c.dir, { recursive: true, force: true });
  const final = checkpoints[checkpoints.length - 1]!;
  const disc = discriminatorConfig(hp);
  const gen = generatorConfig(hp, disc);
  return {
    objective: o.objective, modelName: o.modelName, modelDir, numTrainSteps: final.step, plannedSteps: hp.num_train_steps, updatesReason: plan.reason,
    secondsPerStep: plan.secondsPerStep, budgetSeconds: o.budgetSeconds, trainSeconds, stepFlops: plan.stepFlops,
    generator: { hidden_size: gen.hidden_size, num_hidden_layers: gen.num_hidden_layers },
    discriminator: trainsDiscriminator(o.objective) ? { hidden_size: disc.hidden_size, num_hidden_layers: disc.num_hidden_layers } : null,
    parameters, threads: plan.threads ?? null, heldout, examples, finalCheckpoint: final.dir,
  };
}

function evaluateCheckpoints(hp: PretrainingHparams, o: DemoPretrainOptions): { heldout: HeldoutPoint[]; examples: ExampleSentence[]; parameters: number } {
  const evalHp: PretrainingHparams = { ...hp, pretrain_tfrecords: o.heldoutData };
  const ctx = checkRunInputs(evalHp);
  // A fresh trainer with the run's seed holds the step-0 initialisation.
  const trainer = new Pretrainer(o.kernels, evalHp, {
    maxBatch: Math.max(hp.eval_batch_size, o.scale.examples), maxSeqLen: hp.max_seq_length, seed: hp.seed, special: ctx.special,
  });
  const point = (step: number): HeldoutPoint => {
    const acc = evaluate(evalHp, trainer, ctx);
    const r = acc.results(step);
    const electra = trainsDiscriminator(o.objective);
    return {
      step, disc_auc: electra ? acc.exactAuc() : null, disc_accuracy: electra ? r.disc_accuracy : null,
      disc_all_real_accuracy: electra ? acc.allRealAccuracy() : null,
      masked_lm_accuracy: r.masked_lm_accuracy, masked_lm_loss: r.masked_lm_loss,
    };
  };
  const heldout = [point(0)];
  for (const c of listCheckpoints(hp.model_dir)) {
    restoreCheckpoint(c.dir, trainer.model, trainer.optimizer);
    heldout.push(point(c.step));
  }
  const tokenizer = BertTokenizer.fromVocab(ctx.vocab.tokens, { lowerCase: hp.do_lower_case });
  const examples = trainsDiscriminator(o.objective) ? corruptExamples(trainer, tokenizer, o.scale.examples, hp.max_seq_length) : [];
  return { heldout, examples, parameters: trainer.model.params.size };
}

/** Held-out Brown sentences of different genres, of a length that reads well. */
export function exampleSentences(count: number): { genre: string; document: string; text: string }[] {
  const preferred = ['news', 'fiction', 'learned', 'romance', 'hobbies', 'religion', 'government', 'adventure'];
  const out: { genre: string; document: string; text: string }[] = [];
  const docs = brownDocuments('dev');
  for (const genre of preferred) {
    if (out.length >= count) break;
    const doc = docs.find((d) => d.category === genre);
    const sentence = doc?.sentences.find((s) => s.words.length >= 14 && s.words.length <= 24 && /^[A-Z]/.test(s.words[0]!));
    if (doc && sentence) out.push({ genre, document: doc.id, text: sentence.words.join(' ') });
  }
  return out;
}

/** Runs the model's masking, generator sampling and discriminator on example sentences. */
function corruptExamples(trainer: Pretrainer, tokenizer: BertTokenizer, count: number, maxSeqLen: number): ExampleSentence[] {
  const sentences = exampleSentences(count);
  if (sentences.length === 0) return [];
  const encodings = sentences.map((s) => tokenizer.encode(s.text, null, { maxLength: maxSeqLen }));
  const B = encodings.length;
  const S = Math.max(...encodings.map((e) => e.ids.length));
  const inputs: PretrainingInputs = {
    inputIds: new Int32Array(B * S), segmentIds: new Int32Array(B * S), inputMask: new Int32Array(B * S), batch: B, seqLen: S,
  };
  encodings.forEach((e, b) => e.ids.forEach((id, p) => {
    inputs.inputIds[b * S + p] = id;
    inputs.inputMask[b * S + p] = 1;
  }));
  trainer.evalStep(inputs, 1);
  const model = trainer.model;
  const tokens = tokenizer.vocab.tokens;
  return sentences.map((s, b) => ({
    ...s,
    tokens: encodings[b]!.ids.map((id, p) => {
      const i = b * S + p;
      const shown = model.discInputIds[i]!;
      return {
        original: tokens[id]!, shown: tokens[shown]!, masked: trainer.masked.maskedIds[i] === tokenizer.maskId,
        replaced: shown !== id, prob: model.discProbs[i]!,
      };
    }),
  }));
}

/** The pre-training metrics log (one JSON object a line). */
export function readMetricsLog(modelDir: string): StepLog[] {
  const file = join(modelDir, METRICS_FILE);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as StepLog);
}
