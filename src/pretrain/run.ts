// `electra pretrain` as a library call: checks everything against the files before any work,
// resumes from the newest complete checkpoint (or starts from init_checkpoint / a fresh
// initialization), trains with a progress bar and a JSON-lines metrics log, writes checkpoints
// every save_checkpoints_steps, and evaluates with the reference's metrics.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from '../errors.js';
import { asDiskFull, checkOutputFolder, writeFileAtomic } from '../io/files.js';
import { bf16SpeedNote, kernels as defaultKernels, type Kernels } from '../kernels/index.js';
import { mix32 } from '../kernels/rng.js';
import { discriminatorConfig, generatorConfig } from '../model/config.js';
import type { PretrainingInputs } from '../model/pretraining-model.js';
import { openPretrainingDataset, type PretrainingBatch, type PretrainingDataset, type PretrainingDatasetState } from '../data/pretraining-dataset.js';
import { vocabHash } from '../data/manifest.js';
import { resolvePretrainingInputs } from '../data/pretraining-inputs.js';
import { Vocab } from '../tokenizer/vocab.js';
import { formatSeconds, Progress } from '../util/progress.js';
import { latestCheckpoint, removeStaleCheckpointFiles, restoreCheckpoint, writeCheckpoint } from './checkpoint.js';
import { EvalAccumulator, formatEvalResults, type PretrainingEvalResults } from './eval-metrics.js';
import { hparamsJson, type PretrainingHparams } from './hparams.js';
import { loadInitCheckpoint } from './load.js';
import { findTfCheckpoint } from '../io/tf-release.js';
import { Pretrainer } from './pretrainer.js';
import type { SpecialTokenIds } from '../model/masking.js';
import { pretrainKillInCheckpointStep } from '../util/testing.js';

export const METRICS_FILE = 'metrics.jsonl';

/** One line of <model dir>/metrics.jsonl. */
export interface StepLog {
  /** Updates done after this one (the reference's global_step). */
  step: number;
  loss: number;
  masked_lm_loss: number;
  /** The optimized discriminator loss: mean over the batch's real tokens. */
  disc_loss: number;
  masked_lm_accuracy: number;
  sampled_masked_lm_accuracy: number;
  disc_accuracy: number;
  disc_precision: number;
  disc_recall: number;
  learning_rate: number;
  grad_norm: number;
  tokens_per_second: number;
  elapsed_seconds: number;
}

/** How runPretraining runs: logging, progress, backend, interruption, per-step callback. */
export interface RunPretrainingOptions {
  kernels?: Kernels;
  /** Progress and status messages (default: stdout). */
  log?: (line: string) => void;
  /** Draw the progress bar on stderr (default true; it draws only on a terminal). */
  progress?: boolean;
  /** When aborted, the run stops after the current update and saves a checkpoint there. */
  signal?: AbortSignal;
  /** Called after every update. */
  onStep?: (entry: StepLog) => void;
}

/** How a pre-training run ended: steps done, where it resumed from, the last checkpoint. */
export interface RunPretrainingResult {
  /** Updates done when the run ended. */
  step: number;
  /** The step the run resumed from (0 for a fresh start). */
  resumedFrom: number;
  /** The newest checkpoint when the run ended. */
  checkpoint: string | null;
  interrupted: boolean;
  eval: PretrainingEvalResults | null;
  /** electra-ts extras of the eval (null without eval or without a discriminator). */
  evalExtras: EvalExtras | null;
}

/** Eval figures beyond the reference's, written to unsup_results.json too. */
export interface EvalExtras {
  /** The accuracy of calling every token real: what disc_accuracy must beat to show any detection. */
  disc_all_real_accuracy: number;
  /** Exact ROC AUC over real tokens only (disc_auc is TF's binned AUC with padding as negatives). */
  disc_auc_real_tokens: number;
}

/** A loss or gradient that is NaN or infinite: the run stops instead of writing bad weights. */
export class NonFiniteLossError extends Error {
  constructor(readonly step: number, readonly lastCheckpoint: string | null, what: string) {
    super(`${what} at step ${step}; stopped without saving. ` + (lastCheckpoint
      ? `The last good checkpoint is ${lastCheckpoint}: rerunning resumes from it (lower learning_rate first, or it will diverge again).`
      : 'No checkpoint was written yet: lower learning_rate and start again.'));
    this.name = 'NonFiniteLossError';
  }
}

/** What the checks derive from the files: the vocabulary, its special ids and hash. */
export interface RunContext {
  vocab: Vocab;
  special: SpecialTokenIds;
  vocabHash: string;
}

/** Settings that change what the model is trained or evaluated on (noted when they differ on resume). */
const OBJECTIVE_KEYS = [
  'temperature', 'final_temperature', 'mask_prob', 'max_predictions_per_seq', 'gen_weight', 'disc_weight', 'learning_rate', 'num_train_steps', 'num_warmup_steps',
  'train_batch_size', 'weight_decay_rate', 'lr_decay_power',
] as const;

/** Checks the hparams against the vocabulary, the dataset and the init checkpoint; nothing is written. */
export function checkRunInputs(hp: PretrainingHparams): RunContext {
  if (!existsSync(hp.vocab_file)) {
    throw new UsageError(`vocab file ${hp.vocab_file} not found (put the vocabulary at <data-dir>/vocab.txt or set "vocab_file")`);
  }
  const vocab = Vocab.fromFile(hp.vocab_file);
  if (vocab.size !== hp.vocab_size) {
    throw new UsageError(`"vocab_size" is ${hp.vocab_size} but ${hp.vocab_file} has ${vocab.size} tokens: set "vocab_size": ${vocab.size}`);
  }
  const special = { cls: vocab.idOf('[CLS]')!, sep: vocab.idOf('[SEP]')!, mask: vocab.idOf('[MASK]')! };
  const hash = vocabHash(vocab.tokens);
  for (const [what, cfg] of [['discriminator', discriminatorConfig(hp)], ['generator', generatorConfig(hp)]] as const) {
    if (cfg.hidden_size % cfg.num_attention_heads !== 0) {
      throw new UsageError(`the ${what}'s hidden_size ${cfg.hidden_size} is not a multiple of its ${cfg.num_attention_heads} attention heads (model_hparam_overrides / generator_hidden_size)`);
    }
  }
  let groups;
  try {
    groups = resolvePretrainingInputs(hp.pretrain_tfrecords);
  } catch (err) {
    throw new UsageError(`${(err as Error).message}; "pretrain_tfrecords" takes a folder, a glob such as DIR/pretrain_data.tfrecord*, or a comma-separated list of them. ` +
      `Build data with: electra build-pretraining-dataset --corpus-dir CORPUS --vocab-file ${hp.vocab_file} --output-dir ${hp.pretrain_tfrecords} --max-seq-length ${hp.max_seq_length}`);
  }
  for (const g of groups) {
    if (!g.manifest) continue;
    const m = g.manifest.manifest;
    const manifest = join(g.manifest.dir, 'manifest.json');
    if (m.maxSeqLength !== hp.max_seq_length) {
      throw new UsageError(`"max_seq_length" is ${hp.max_seq_length} but ${manifest} says the data was built with ${m.maxSeqLength}: set "max_seq_length": ${m.maxSeqLength} or rebuild the data`);
    }
    if (m.vocab.hash !== hash) {
      throw new UsageError(`${manifest}: the data was built with another vocabulary (${m.vocab.size} tokens) than ${hp.vocab_file} (${vocab.size} tokens): rebuild the data with this vocab file or set "vocab_file"`);
    }
    if (m.lowerCase !== hp.do_lower_case) {
      throw new UsageError(`"do_lower_case" is ${hp.do_lower_case} but ${manifest} says the data was built with lower-casing ${m.lowerCase ? 'on' : 'off'}: set "do_lower_case": ${m.lowerCase}`);
    }
  }
  if (hp.init_checkpoint !== null && !existsSync(hp.init_checkpoint) && !existsSync(`${hp.init_checkpoint}.index`)) {
    throw new UsageError(`"init_checkpoint": ${hp.init_checkpoint} does not exist`);
  }
  checkOutputFolder(hp.model_dir, 'the model folder');
  return { vocab, special, vocabHash: hash };
}

function openTrainingData(hp: PretrainingHparams, ctx: RunContext, state: PretrainingDatasetState | null, log?: (line: string) => void): PretrainingDataset {
  return openPretrainingDataset(hp.pretrain_tfrecords, {
    maxSeqLength: hp.max_seq_length, vocabHash: ctx.vocabHash, vocabSize: ctx.vocab.size, batchSize: hp.train_batch_size, seed: hp.seed,
    ...(log ? { onNotice: log } : {}),
    ...(state ? { state } : {}),
  });
}

function toInputs(b: PretrainingBatch): PretrainingInputs {
  return { inputIds: b.inputIds, segmentIds: b.segmentIds, inputMask: b.inputMask, batch: b.batchSize, seqLen: b.maxSeqLength };
}

/** Keeps the metrics log lines up to `step` (a resumed run rewrites what follows); drops a torn last line. */
function truncateMetricsLog(path: string, step: number): void {
  if (!existsSync(path)) return;
  const keep: string[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let entry: { step?: unknown };
    try {
      entry = JSON.parse(line) as { step?: unknown };
    } catch {
      continue; // the line being written when the process died
    }
    if (typeof entry.step === 'number' && entry.step <= step) keep.push(line + '\n');
  }
  writeFileAtomic(path, keep);
}

function stepNote(e: StepLog): string {
  const tps = e.tokens_per_second >= 1e4 ? `${(e.tokens_per_second / 1e3).toFixed(1)}k` : e.tokens_per_second.toFixed(0);
  return `loss ${e.loss.toFixed(4)} disc_acc ${e.disc_accuracy.toFixed(3)} ${tps} tok/s`;
}

/** Runs pre-training and/or evaluation as the hparams say. */
export async function runPretraining(hp: PretrainingHparams, options: RunPretrainingOptions = {}): Promise<RunPretrainingResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const ctx = checkRunInputs(hp);
  const k = options.kernels ?? defaultKernels();
  const killStep = pretrainKillInCheckpointStep();

  // A model dir made by this call is removed again if the model or the data cannot be set up
  // (bad init_checkpoint, mismatched checkpoint, damaged shards), so a failed first run leaves
  // nothing behind; nothing is written into the model dir before the setup has succeeded.
  // The first folder this call creates (models/ itself on a first run), undefined if none.
  const createdDir = mkdirSync(hp.model_dir, { recursive: true });
  let step = 0;
  let latest: ReturnType<typeof latestCheckpoint> = null;
  let trainer: Pretrainer;
  let data: PretrainingDataset | null = null;
  try {
    const stale = removeStaleCheckpointFiles(hp.model_dir);
    if (stale.length > 0) log(`removed ${stale.length} unfinished checkpoint folder(s) left by an interrupted run`);

    const note = hp.precision === 'bf16' && hp.do_train ? bf16SpeedNote(k) : null;
    if (note) log(note);
    // With accumulation the model holds one micro-batch (or an eval batch, if larger).
    const micro = hp.train_batch_size / hp.gradient_accumulation_steps;
    const maxBatch = Math.max(hp.do_train ? micro : 1, hp.do_eval ? hp.eval_batch_size : 1);
    trainer = new Pretrainer(k, hp, {
      maxBatch, maxSeqLen: hp.max_seq_length, seed: hp.seed, special: ctx.special, accumulationSteps: hp.gradient_accumulation_steps,
      precision: hp.precision,
    });
    const { model, optimizer } = trainer;

    latest = latestCheckpoint(hp.model_dir);
    if (latest) {
      const state = restoreCheckpoint(latest.dir, model, optimizer);
      if (state.seed !== hp.seed) {
        throw new UsageError(`"seed" is ${hp.seed} but ${latest.dir} was trained with seed ${state.seed}: resume with "seed": ${state.seed}, or use another --model-name`);
      }
      step = state.step;
      if (hp.do_train && step < hp.num_train_steps) data = openTrainingData(hp, ctx, state.data, log);
      log(hp.do_train && step < hp.num_train_steps ? `resuming from ${latest.dir} (step ${step})` : `loaded ${latest.dir} (step ${step})`);
      // Allowed, but a continuation or an eval under other objective or optimizer settings is rarely meant.
      for (const key of OBJECTIVE_KEYS) {
        const before = state.hparams[key];
        if (before !== undefined && before !== hp[key]) log(`note: "${key}" is ${JSON.stringify(hp[key])} but ${latest.dir} was trained with ${JSON.stringify(before)}`);
      }
    } else if (hp.init_checkpoint !== null || findTfCheckpoint(hp.model_dir)) {
      // Without init_checkpoint, a released TF checkpoint unpacked in the model dir is where training starts.
      const init = hp.init_checkpoint ?? hp.model_dir;
      const report = loadInitCheckpoint(init, model, ctx.vocab.tokens, log);
      log(`initialized from ${init}: ${report.loaded.length} parameters loaded` +
        (report.notLoaded.length > 0 ? `, ${report.notLoaded.length} freshly initialized (${report.notLoaded.slice(0, 3).join(', ')}${report.notLoaded.length > 3 ? ', ...' : ''})` : '') +
        (report.differing.length > 0 ? `; the generator folder's copy of ${report.differing.join(', ')} differs: the discriminator's was used` : ''));
    }
    if (!latest && hp.do_train && hp.num_train_steps > 0) data = openTrainingData(hp, ctx, null, log);
    // An evaluation opens its own order of the data; its shards are checked here, before any output.
    if (!data && hp.do_eval) openTrainingData(hp, ctx, null).close();
  } catch (err) {
    data?.close();
    if (createdDir !== undefined) rmSync(createdDir, { recursive: true, force: true });
    throw err;
  }
  let lastCheckpoint: string | null = latest?.dir ?? null;
  const { model, optimizer } = trainer;
  // The record of this run's settings, once they have proven to fit the model dir.
  writeFileAtomic(join(hp.model_dir, 'hparams.json'), [JSON.stringify(hparamsJson(hp), null, 2) + '\n']);
  const metricsPath = join(hp.model_dir, METRICS_FILE);
  if (hp.do_train) {
    if (latest) truncateMetricsLog(metricsPath, step);
    else rmSync(metricsPath, { force: true });
  }
  const resumedFrom = step;
  let interrupted = false;

  if (data) {
    const bar = options.progress === false ? null
      : new Progress({ label: 'pre-training', total: hp.num_train_steps, start: step, unit: 'items' });
    const reportLines = options.progress !== false && !process.stderr.isTTY;
    const started = performance.now();
    let windowStart = started;
    let windowTokens = 0;
    try {
      while (step < hp.num_train_steps) {
        const batch = data.nextBatch();
        const r = trainer.trainStep(toInputs(batch));
        step = r.step + 1;
        const m = r.metrics;
        if (!Number.isFinite(m.totalLoss)) throw new NonFiniteLossError(step, lastCheckpoint, `the loss is ${m.totalLoss} (masked_lm_loss ${m.genLoss}, disc_loss ${m.discLoss})`);
        if (!Number.isFinite(r.gradNorm)) throw new NonFiniteLossError(step, lastCheckpoint, `the gradient norm is ${r.gradNorm}`);
        windowTokens += batch.batchSize * batch.maxSeqLength;
        const now = performance.now();
        const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);
        const entry: StepLog = {
          step,
          loss: m.totalLoss,
          masked_lm_loss: m.genLoss,
          disc_loss: m.discLoss,
          masked_lm_accuracy: ratio(m.mlmCorrect, m.predictions),
          sampled_masked_lm_accuracy: ratio(m.sampledCorrect, m.predictions),
          disc_accuracy: ratio(m.discCorrect, m.discTokens),
          disc_precision: ratio(m.discTruePositives, m.discPredictedPositives),
          disc_recall: ratio(m.discTruePositives, m.discLabelPositives),
          learning_rate: r.learningRate,
          grad_norm: r.gradNorm,
          tokens_per_second: windowTokens / Math.max(1e-9, (now - windowStart) / 1000),
          elapsed_seconds: (now - started) / 1000,
        };
        options.onStep?.(entry);
        bar?.update(step, stepNote(entry));
        if (step % hp.iterations_per_loop === 0 || step === hp.num_train_steps) {
          try {
            appendFileSync(metricsPath, JSON.stringify(entry) + '\n');
          } catch (err) {
            throw asDiskFull(err, metricsPath); // a torn last line is dropped on resume
          }
          if (reportLines) {
            const sps = (step - resumedFrom) / entry.elapsed_seconds;
            log(`${step}/${hp.num_train_steps} = ${(100 * step / hp.num_train_steps).toFixed(1)}%, SPS: ${sps.toFixed(2)}, ELAP: ${formatSeconds(entry.elapsed_seconds)}, ` +
              `ETA: ${formatSeconds((hp.num_train_steps - step) / sps)} - ${stepNote(entry)}`);
          }
          windowStart = now;
          windowTokens = 0;
        }
        const aborted = options.signal?.aborted === true;
        if (step % hp.save_checkpoints_steps === 0 || step === hp.num_train_steps || aborted) {
          lastCheckpoint = writeCheckpoint(hp.model_dir, {
            model, optimizer, vocab: [...ctx.vocab.tokens], doLowerCase: hp.do_lower_case, keep: hp.keep_checkpoint_max ?? 0,
            state: { step, seed: hp.seed, data: data.getState(), loss: m.totalLoss, hparams: hparamsJson(hp) },
            ...(killStep === step ? { onStaged: () => process.kill(process.pid, 'SIGKILL') } : {}),
          });
        }
        if (aborted) {
          interrupted = true;
          break;
        }
        // Let signal handlers (Ctrl-C) run between updates.
        if (options.signal) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      data.close();
      bar?.finish(interrupted ? `interrupted at step ${step}` : undefined);
    }
    log(interrupted ? `interrupted at step ${step}; saved ${lastCheckpoint}` : `trained to step ${step}; checkpoint ${lastCheckpoint}`);
  } else if (hp.do_train) {
    log(`${hp.model_dir} is already trained to step ${step} (num_train_steps ${hp.num_train_steps})`);
  }

  let evalResults: PretrainingEvalResults | null = null;
  let extras: EvalExtras | null = null;
  if (hp.do_eval && !interrupted) {
    if (step === 0 && !latest && hp.init_checkpoint === null) log('note: evaluating a freshly initialized model (no checkpoint and no init_checkpoint)');
    const acc = evaluate(hp, trainer, ctx, options.progress !== false);
    evalResults = acc.results(step);
    if (hp.electra_objective) extras = { disc_all_real_accuracy: acc.allRealAccuracy(), disc_auc_real_tokens: acc.exactAuc() };
    const text = formatEvalResults(evalResults, hp.electra_objective);
    mkdirSync(dirname(hp.results_txt), { recursive: true });
    mkdirSync(dirname(hp.results_json), { recursive: true });
    writeFileAtomic(hp.results_txt, [text]);
    const json = { ...evalResults, ...extras };
    writeFileAtomic(hp.results_json, [JSON.stringify(json, null, 2) + '\n']);
    log(`eval results (${hp.num_eval_steps} batches of ${hp.eval_batch_size}) written to ${hp.results_txt}:\n${text.trimEnd()}`);
  }
  return { step, resumedFrom, checkpoint: lastCheckpoint, interrupted, eval: evalResults, evalExtras: extras };
}

/** The reference's eval metrics summed over num_eval_steps batches (no dropout; masking from the eval streams). */
export function evaluate(hp: PretrainingHparams, trainer: Pretrainer, ctx: RunContext, progress = false): EvalAccumulator {
  // Its own order of the data, the same for every evaluation of this run.
  const data: PretrainingDataset = openPretrainingDataset(hp.pretrain_tfrecords, {
    maxSeqLength: hp.max_seq_length, vocabHash: ctx.vocabHash, vocabSize: ctx.vocab.size, batchSize: hp.eval_batch_size, seed: mix32(hp.seed ^ 0x5eed0e7a),
  });
  const acc = new EvalAccumulator();
  const model = trainer.model;
  try {
    const bar = progress ? new Progress({ label: 'evaluating', total: hp.num_eval_steps, unit: 'items' }) : null;
    for (let i = 0; i < hp.num_eval_steps; i++) {
      const inputs = toInputs(data.nextBatch());
      const m = trainer.evalStep(inputs, i);
      const T = inputs.batch * inputs.seqLen;
      acc.add(m, model.discriminator ? model.discProbs : null, model.discriminator ? model.discLabels : null, inputs.inputMask, T);
      bar?.update(i + 1);
    }
    bar?.finish();
  } finally {
    data.close();
  }
  return acc;
}
