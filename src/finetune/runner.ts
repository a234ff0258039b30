// The fine-tuning run (the reference's run_finetuning.py): for each trial, a model from the
// pre-trained encoder plus fresh task heads, trained on the mixed, shuffled training features
// of all tasks with layer-wise learning rates, then evaluated on dev; results per trial and
// their median go to <data_dir>/models/<model_name>/results, models to .../finetuning_models.
// Training writes a checkpoint every save_checkpoints_steps into the trial's model folder;
// re-running the same command resumes from it, and skips the trials already done.
import { prepareTfCheckpointFolders } from '../io/tf-release.js';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ElectraConfig } from '../model/config.js';
import { bf16SpeedNote, kernels as defaultKernels, withPrecision, type Kernels } from '../kernels/index.js';
import { mix32 } from '../kernels/rng.js';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/files.js';
import { Rng } from '../nn/random.js';
import { AdamW, ELECTRA_ADAMW, type ArenaRun } from '../optim/adamw.js';
import { learningRateAt, type LrSchedule } from '../optim/schedule.js';
import { BertTokenizer, bertUncasedVocab } from '../tokenizer/index.js';
import { readVocabFile } from '../io/hf-folder.js';
import { Progress } from '../util/progress.js';
import { finetuneKillInCheckpoint } from '../util/testing.js';
import { finetuningPaths, taskHparams, type FinetuningHparams, type FinetuningPaths } from './hparams.js';
import { layerwiseLrScale } from './layerwise-lr.js';
import { formatResults, formatResultsFile, resultsObject, type MetricList } from './scorer.js';
import { DATA_DIR_TASKS, getTasks } from './tasks.js';
import { summaryLine } from './summary.js';
import type { AnyTask, EvaluationEnv, TaskContext, TaskEvaluation } from './task.js';
import { pythonJson } from './qa/postprocess.js';
import { electraQaOptions } from './qa/family.js';
import { FinetuningModel, itemLength, type BatchItem, type ItemOutput } from './model/finetuning-model.js';
import {
  checkModelSize, headSpecsOf, loadWeights, modelConfigFromHparams, readFinetuningFolder, saveFinetunedModel,
  type FinetuningFolder, type SavedFinetuning,
} from './model/checkpoint.js';
import { latestCheckpoint, listCheckpoints, removeStaleCheckpointFiles, retireCheckpoint } from '../io/checkpoint-folders.js';
import {
  readFinetuningState, restoreFinetuningCheckpoint, writeFinetuningCheckpoint, type FinetuningTrainingState,
} from './model/training-checkpoint.js';
import {
  evaluationFingerprint, newProgress, progressFile, readProgress, trainingFingerprint, writeProgress, type RunProgress,
} from './progress.js';

/** What runFinetuning runs: hparams, backend, logging, progress, interruption. */
export interface FinetuneOptions {
  hparams: FinetuningHparams;
  kernels?: Kernels;
  /** Log lines (default: stderr). */
  log?: (line: string) => void;
  /** Where progress bars are drawn (default stderr; live only on a terminal). */
  progressStream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Builds the tasks (default: getTasks, from hparams.task_names). */
  makeTasks?: (ctx: TaskContext) => AnyTask[];
  /** When aborted, training stops after the current update and saves a checkpoint there. */
  signal?: AbortSignal;
  /** Called after every update with the trial and the updates done in it. */
  onStep?: (trial: number, step: number) => void;
}

/** A fine-tuning run: per-trial and median metrics, model folders, result files. */
export interface FinetuneResult {
  /** Per trial: task -> metrics (empty when do_eval is off). */
  trials: Map<string, MetricList>[];
  /** Task -> the median of each metric over the trials. */
  median: Map<string, MetricList>;
  trainSteps: number;
  /** The fine-tuned model folder of each trial. */
  modelDirs: string[];
  paths: FinetuningPaths;
  /** Stopped by the signal (a checkpoint was saved; rerunning resumes). */
  interrupted: boolean;
  /** The trials skipped because an earlier run of the same command had done them. */
  skippedTrials: number[];
  /** Per trial, the step its training resumed from (absent: it started afresh or was skipped). */
  resumedFrom: Map<number, number>;
}


const STREAM_SHUFFLE = 0x5348;
const STREAM_DROPOUT = 0x4452;
const STREAM_PLAN = 0x504c;

/**
 * The HF folder of a pre-trained model: the folder itself, its discriminator/, else its generator/
 * (a masked-LM run, electra_objective false, writes no discriminator), or those of its newest
 * checkpoint-<step>/ (as the pre-training run writes them).
 */
export function resolvePretrainedFolder(dir: string): string | null {
  const model = (d: string): string | null => ['', 'discriminator', 'generator'].map((sub) => join(d, sub)).find((f) => existsSync(join(f, 'config.json'))) ?? null;
  if (model(dir)) return model(dir);
  if (!existsSync(dir)) return null;
  const steps = readdirSync(dir).map((n) => /^checkpoint-(\d+)$/.exec(n)).filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1])).sort((a, b) => b - a);
  for (const step of steps) {
    const found = model(join(dir, `checkpoint-${step}`));
    if (found) return found;
  }
  return null;
}

function sourceFolder(hp: FinetuningHparams, paths: FinetuningPaths, log: (line: string) => void): FinetuningFolder | null {
  if (hp.random_init) return null;
  // A released TF checkpoint (Google's zip, unpacked) is converted once into HF folders beside it.
  const dir = prepareTfCheckpointFolders(paths.pretrainedModelDir, {
    notice: log, numAttentionHeads: { discriminator: modelConfigFromHparams(hp).num_attention_heads },
  }) ?? paths.pretrainedModelDir;
  const found = resolvePretrainedFolder(dir);
  if (!found) {
    throw new UsageError(hp.init_checkpoint
      ? `init_checkpoint ${dir} is not a model folder (no config.json, discriminator/, generator/ or checkpoint-<step>/ with them)`
      : `no pre-trained model at ${dir} (a model folder, its discriminator/ or generator/, or checkpoint-<step>/ with them): ` +
        'pre-train one with `electra pretrain`, set "init_checkpoint" to an HF model folder, or set "random_init": true');
  }
  return readFinetuningFolder(found);
}

function makeTokenizer(
  hp: FinetuningHparams, source: FinetuningFolder | null, paths: FinetuningPaths, log: (s: string) => void,
): { tokenizer: BertTokenizer; vocab: string[]; vocabSource: string } {
  let vocab: string[] | undefined;
  let vocabSource = '';
  if (hp.vocab_file) [vocab, vocabSource] = [readVocabFile(hp.vocab_file), hp.vocab_file];
  else if (source?.folder.vocab) [vocab, vocabSource] = [source.folder.vocab, join(source.dir, 'vocab.txt')];
  else {
    const file = paths.vocabCandidates.find((f) => existsSync(f));
    if (file) [vocab, vocabSource] = [readVocabFile(file), file];
  }
  if (!vocab) {
    log("no vocabulary with the model, vocab_file or <data_dir>/vocab.txt: using BERT's uncased vocabulary");
    [vocab, vocabSource] = [bertUncasedVocab(), "BERT's uncased vocabulary"];
  }
  return { tokenizer: BertTokenizer.fromVocab(vocab, { lowerCase: hp.do_lower_case }), vocab, vocabSource };
}

/** The vocabulary must be the model's: ids past vocab_size cannot be embedded, and another vocabulary of the same size would map words to the wrong embeddings. */
function checkVocabulary(vocab: readonly string[], vocabSource: string, config: ElectraConfig, source: FinetuningFolder | null): void {
  if (vocab.length === config.vocab_size) return;
  const model = source ? `the model ${source.dir} has vocab_size ${config.vocab_size}` : `"vocab_size" is ${config.vocab_size}`;
  const fix = source ? 'use the vocab.txt the model was pre-trained with (set "vocab_file")' : `set "vocab_size": ${vocab.length}`;
  throw new UsageError(`${vocabSource} has ${vocab.length} tokens but ${model}: ${fix}`);
}

function checkTaskData(task: AnyTask, paths: FinetuningPaths, hp: FinetuningHparams): void {
  if (!DATA_DIR_TASKS.has(task.name) || hp.custom_tasks[task.name]) return;
  const dir = paths.rawDataDir(task.name);
  if (!existsSync(dir)) {
    throw new UsageError(`task ${task.name}: its data folder ${dir} does not exist (expected ${task.dataFiles} there)`);
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Per task, each metric's median over the trials. */
export function medianResults(trials: readonly ReadonlyMap<string, MetricList>[]): Map<string, MetricList> {
  const out = new Map<string, MetricList>();
  if (trials.length === 0) return out;
  for (const [task, first] of trials[0]!) {
    out.set(task, first.map(([name]) => [name, median(trials.map((t) => t.get(task)?.find(([n]) => n === name)?.[1] ?? NaN))]));
  }
  return out;
}

type ProgressStream = FinetuneOptions['progressStream'];

/** Runs the model over items in batches (longest first, to pad little), in eval mode, with a progress bar. */
function predict(model: FinetuningModel, items: BatchItem[], batchSize: number, label: string, stream: ProgressStream): ItemOutput[] {
  const order = items.map((_, i) => i).sort((a, b) => itemLength(items[b]!) - itemLength(items[a]!));
  const out = new Array<ItemOutput>(items.length);
  const bar = new Progress({ label, total: items.length, unit: 'items', ...(stream ? { stream } : {}) });
  for (let i = 0; i < order.length; i += batchSize) {
    const idx = order.slice(i, i + batchSize);
    const r = model.run(idx.map((j) => items[j]!), { training: false, stepSeed: 0, backward: false });
    idx.forEach((j, b) => {
      out[j] = r.outputs[b]!;
    });
    bar.update(Math.min(items.length, i + batchSize));
  }
  bar.finish();
  return out;
}

export type { TaskEvaluation };

/** What a task's evaluation or prediction runs with: the model at the given batch size. */
function evaluationEnv(
  model: FinetuningModel, task: AnyTask, hp: FinetuningHparams, batchSize: number, paths: FinetuningPaths | undefined, stream: ProgressStream,
): EvaluationEnv {
  const head = model.heads.get(task.name);
  if (!head) throw new Error(`the model has no head for task ${task.name}`);
  return {
    hparams: hp, style: head.spec.style, paths,
    predict: (items, label) => predict(model, items, batchSize, label, stream),
  };
}

/** Dev-set (or another split's) metrics and predictions of one task; QA tasks write their prediction files when paths are given. */
export function evaluateTask(
  model: FinetuningModel, task: AnyTask, hp: FinetuningHparams, split = 'dev', paths?: FinetuningPaths, progressStream?: ProgressStream,
): TaskEvaluation {
  return task.evaluate(split, evaluationEnv(model, task, hp, hp.eval_batch_size, paths, progressStream));
}

/** {id: prediction} as JSON (the reference pickles test predictions; JSON here). */
function writePredictions(file: string, predictions: Map<string, unknown>, log: (s: string) => void): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomic(file, [pythonJson(predictions)]);
  log(`wrote ${file}`);
}

/** The reference's test-set outputs: logits (or predictions) per eid for GLUE, answers for SQuAD 2.0. */
function writeTestPredictions(
  model: FinetuningModel, task: AnyTask, hp: FinetuningHparams, paths: FinetuningPaths, trial: number, log: (s: string) => void, stream: ProgressStream,
): void {
  const splits = task.testSplits();
  if (splits.length === 0) {
    log(`skipping task ${task.name}: writing test predictions is not supported for this task`);
    return;
  }
  const env = evaluationEnv(model, task, hp, hp.predict_batch_size, undefined, stream);
  for (const split of splits) writePredictions(paths.testPredictions(task.name, split, trial), task.predictTest(split, env), log);
}

/**
 * Runs hparams' num_trials fine-tuning trials (do_train, do_eval), writing results and models,
 * without pausing: opts.signal is seen only if it is aborted from within (e.g. from onStep). A
 * caller that must react to Ctrl-C or timers during training uses runFinetuningAsync.
 */
export function runFinetuning(opts: FinetuneOptions): FinetuneResult {
  const steps = finetuningSteps(opts);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/**
 * runFinetuning that lets the event loop run after every training step, so that a SIGINT
 * handler (or a timer) can abort opts.signal: training then stops after the current update and
 * saves a checkpoint, and rerunning resumes.
 */
export async function runFinetuningAsync(opts: FinetuneOptions): Promise<FinetuneResult> {
  const steps = finetuningSteps(opts);
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** The whole run as a generator that yields after each training step (see the two drivers above). */
function* finetuningSteps(opts: FinetuneOptions): Generator<void, FinetuneResult> {
  const hp = opts.hparams;
  const k = opts.kernels ?? defaultKernels();
  const log = opts.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const paths = finetuningPaths(hp);
  const taskNames = hp.task_names.join(',');
  const killInCheckpoint = finetuneKillInCheckpoint();

  const source = sourceFolder(hp, paths, log);
  if (source) {
    const arch = source.folder.architecture;
    log(`fine-tuning from ${source.dir} (${arch}${arch === 'ElectraForMaskedLM' ? ': a masked LM, no discriminator; its encoder without the LM head' : ''})`);
  } else log('fine-tuning from randomly initialised weights');
  const { tokenizer, vocab, vocabSource } = makeTokenizer(hp, source, paths, log);
  const maxSeqLength = Math.max(...hp.task_names.map((name) => taskHparams(hp, name).max_seq_length));
  const config = modelConfigFromHparams({ ...hp, max_seq_length: maxSeqLength });
  if (source) checkModelSize(config, source.folder.config, source.dir, hp);
  checkVocabulary(vocab, vocabSource, config, source);

  const ctx: TaskContext = { hparams: hp, tokenizer, warn: log };
  const makeTasks = opts.makeTasks ?? getTasks;
  // A task with its own task_hparams is built with them (its features take its max_seq_length).
  const tasks = makeTasks(ctx).map((task) => (hp.task_hparams[task.name]
    ? makeTasks({ ...ctx, hparams: taskHparams(hp, task.name) }).find((t) => t.name === task.name) ?? task
    : task));
  const taskHp = (task: AnyTask): FinetuningHparams => taskHparams(hp, task.name);
  for (const task of tasks) checkTaskData(task, paths, hp);

  // Head styles: as asked, else that of the head a single task continues from (an HF
  // fine-tuned folder's, or ours for the same task), else the reference's.
  const savedTasks = tasks.map((task) => {
    const kind = task.savedTask('electra').kind;
    const continued = tasks.length === 1 && source
      ? source.tasks.find((t) => t.kind === kind && (source.saved === null || t.name === task.name))
      : undefined;
    const saved = { ...task.savedTask(hp.head_style ?? continued?.style ?? 'electra'), maxSeqLength: taskHp(task).max_seq_length };
    if (saved.summaryType === 'mean' && saved.style === 'hf') {
      throw new UsageError(`${task.name}: summary_type 'mean' needs head_style 'electra' (transformers' ElectraForSequenceClassification reads the first token)`);
    }
    return saved;
  });
  const specs = headSpecsOf(savedTasks);
  const qa = electraQaOptions(hp);
  const saved: SavedFinetuning = {
    tasks: savedTasks, max_seq_length: maxSeqLength, max_query_length: hp.max_query_length, doc_stride: hp.doc_stride,
    n_best_size: hp.n_best_size, max_answer_length: hp.max_answer_length, qa_na_threshold: hp.qa_na_threshold, qa,
  };
  const maxBatch = modelBatchCapacity(hp);

  // Training features of every task; every split read (and checked) and summarised before training.
  const taskTrain: BatchItem[][] = [];
  const devExamples = hp.do_eval ? tasks.map((t) => t.getExamples('dev')) : [];
  tasks.forEach((task, t) => {
    const maxLength = taskHp(task).max_seq_length;
    if (hp.do_train) {
      const examples = task.getExamples('train');
      const features = examples.flatMap((e) => task.featurize(e, true));
      taskTrain.push(features.map((f) => task.batchItem(f, true)));
      log(summaryLine(task, 'train', examples, features, maxLength));
    }
    // Dev features are made here only for tasks that summarise them (QA windows are costly).
    const dev = devExamples[t];
    if (dev) log(summaryLine(task, 'dev', dev, task.summarize ? dev.flatMap((e) => task.featurize(e, false)) : null, maxLength));
  });
  const train = taskTrain.flat();
  if (hp.do_train && train.length === 0) throw new UsageError(`no training examples for ${taskNames}`);
  // Without task_hparams the tasks' examples are mixed in every batch (the reference's way);
  // with them each batch holds one task's examples (its batch size, length and learning rate).
  const singleTaskBatches = tasks.length > 1 && Object.keys(hp.task_hparams).length > 0;
  const lanes = hp.do_train
    ? (singleTaskBatches ? tasks.map((task, t) => trainingLane(taskTrain[t]!, taskHp(task), task.name)) : [trainingLane(train, tasks.length === 1 ? taskHp(tasks[0]!) : hp, null)])
    : [];
  if (singleTaskBatches) {
    const empty = lanes.find((lane) => lane.steps === 0);
    if (empty) throw new UsageError(`task ${empty.task}: no training examples, or too few for one update at its num_train_epochs`);
  }
  const trainSteps = lanes.reduce((sum, lane) => sum + lane.steps, 0);

  const trials: Map<string, MetricList>[] = [];
  const modelDirs: string[] = [];
  const skippedTrials: number[] = [];
  const resumedFrom = new Map<number, number>();
  // What an earlier run of the same command finished (training only: evaluating alone redoes nothing).
  const progressPath = progressFile(dirname(paths.modelDir), hp.task_names);
  let progress: RunProgress | null = null;
  let evalFingerprint = '';
  if (hp.do_train) {
    const weightFiles = source ? source.folder.weightFiles.map((f) => join(source.dir, f)) : null;
    const fingerprint = trainingFingerprint(hp, weightFiles, train);
    evalFingerprint = evaluationFingerprint(fingerprint, hp, devExamples);
    progress = readProgress(progressPath);
    if (progress && progress.fingerprint !== fingerprint) {
      log(`${progressPath} records a run with other settings, data or starting weights: starting over`);
      progress = null;
    }
    progress ??= newProgress(fingerprint);
  }
  let interrupted = false;
  for (let trial = 1; trial <= hp.num_trials && !interrupted; trial++) {
    const seed = (hp.seed + trial - 1) >>> 0;
    const modelDir = `${paths.modelDir}_${trial}`;
    modelDirs.push(modelDir);
    const record = progress?.trials[String(trial)];
    const evaluated = record?.evaluation && (!hp.do_eval || record.evaluation.fingerprint === evalFingerprint) ? record.evaluation : null;
    if (record?.trained && (evaluated || !hp.do_eval)) {
      log(`== ${taskNames}: trial ${trial}/${hp.num_trials} was done by an earlier run of this command (${progressPath}): skipped`);
      skippedTrials.push(trial);
      if (hp.do_eval && evaluated) {
        trials.push(new Map(evaluated.results));
        writeResults(paths, trials);
      }
      continue;
    }
    log(`== ${taskNames}: model=${hp.model_name}, trial ${trial}/${hp.num_trials}, seed ${seed}`);
    const note = hp.precision === 'bf16' && hp.do_train ? bf16SpeedNote(k) : null;
    if (note) log(note);
    const model = new FinetuningModel(withPrecision(k, hp.precision), config, specs, { maxBatch, maxSeqLen: maxSeqLength, qa });
    if (hp.do_train && record?.trained && existsSync(join(modelDir, 'config.json'))) {
      loadWeights(model, readFinetuningFolder(modelDir), tasks.length === 1 ? tasks[0]!.name : undefined);
      log(`the trained model ${modelDir} is kept from an earlier run of this command`);
    } else if (hp.do_train) {
      model.initialize(seed);
      if (source) {
        const report = loadWeights(model, source, tasks.length === 1 ? tasks[0]!.name : undefined);
        if (report.loadedHeads.length > 0) log(`continuing the ${report.loadedHeads.join(', ')} head(s) from ${source.dir}`);
      }
      const run = progress!;
      const resume = resumableCheckpoint(modelDir, run.fingerprint, trial, log);
      if (!resume) rmSync(modelDir, { recursive: true, force: true });
      const outcome = yield* trainTrial(model, lanes, singleTaskBatches, seed, hp, k, log, opts.progressStream,
        `${taskNames} trial ${trial}/${hp.num_trials}`, {
          dir: modelDir, trial, fingerprint: run.fingerprint, resume, signal: opts.signal, onStep: opts.onStep,
          killAtStep: killInCheckpoint?.trial === trial ? killInCheckpoint.step : undefined,
        });
      if (resume) resumedFrom.set(trial, resume.step);
      if (outcome.interrupted) {
        log(`stopped at step ${outcome.step} of trial ${trial}; the checkpoint is saved: rerun the same command to resume`);
        interrupted = true;
        break;
      }
      saveFinetunedModel(modelDir, model, { vocab, doLowerCase: hp.do_lower_case, saved });
      log(`saved ${modelDir}`);
      run.trials[String(trial)] = { trained: true, evaluation: null };
      writeProgress(progressPath, run);
      // The saved model supersedes the training checkpoints.
      for (const c of listCheckpoints(modelDir)) retireCheckpoint(modelDir, c.dir);
    } else {
      const from = existsSync(join(modelDir, 'config.json')) ? readFinetuningFolder(modelDir) : source;
      if (!from) throw new UsageError(`do_train is off and there is no fine-tuned model at ${modelDir} to evaluate`);
      const report = loadWeights(model, from, tasks.length === 1 ? tasks[0]!.name : undefined);
      if (report.freshHeads.length > 0) throw new UsageError(`do_train is off but ${from.dir} has no head for ${report.freshHeads.join(', ')}`);
      log(`evaluating ${from.dir}`);
    }

    if (hp.do_eval) {
      const results = new Map<string, MetricList>();
      for (const task of tasks) {
        const { metrics, predictions } = evaluateTask(model, task, taskHp(task), 'dev', paths, opts.progressStream);
        results.set(task.name, metrics);
        log(`${task.name}: ${formatResults(metrics)}`);
        if (predictions.size > 0) writePredictions(paths.testPredictions(task.name, 'dev', trial), predictions, log);
      }
      trials.push(results);
      writeResults(paths, trials);
      if (hp.write_test_outputs && trial <= hp.n_writes_test) {
        for (const task of tasks) writeTestPredictions(model, task, taskHp(task), paths, trial, log, opts.progressStream);
      }
      if (progress) {
        progress.trials[String(trial)] = { trained: true, evaluation: { fingerprint: evalFingerprint, results: [...results] } };
        writeProgress(progressPath, progress);
      }
    }
    if (trial !== hp.num_trials && !hp.keep_all_models) rmSync(modelDir, { recursive: true, force: true });
  }
  const med = medianResults(trials);
  if (trials.length > 1) for (const [task, r] of med) log(`${task} (median of ${trials.length}): ${formatResults(r)}`);
  return { trials, median: med, trainSteps, modelDirs, paths, interrupted, skippedTrials, resumedFrom };
}

/** The newest checkpoint in a trial's folder that this run wrote, if any (stale staging folders are removed). */
function resumableCheckpoint(
  modelDir: string, fingerprint: string, trial: number, log: (s: string) => void,
): FinetuningTrainingState | null {
  const stale = removeStaleCheckpointFiles(modelDir);
  if (stale.length > 0) log(`removed ${stale.length} unfinished checkpoint folder(s) in ${modelDir}`);
  const latest = latestCheckpoint(modelDir);
  if (!latest) return null;
  const state = readFinetuningState(latest.dir);
  if (state.fingerprint !== fingerprint || state.trial !== trial) {
    log(`${latest.dir} is from a run with other settings, data or starting weights: not resuming from it`);
    return null;
  }
  if (state.step !== latest.step) throw new Error(`${latest.dir}: its training state says step ${state.step}`);
  log(`resuming trial ${trial} from ${latest.dir} (step ${state.step} of ${state.trainSteps})`);
  return state;
}

function writeResults(paths: FinetuningPaths, trials: Map<string, MetricList>[]): void {
  mkdirSync(dirname(paths.resultsTxt), { recursive: true });
  writeFileAtomic(paths.resultsTxt, [formatResultsFile(trials)]);
  const toObject = (m: Map<string, MetricList>): Record<string, Record<string, number>> =>
    Object.fromEntries([...m].map(([task, r]) => [task, resultsObject(r)]));
  const json = { trials: trials.map(toObject), median: toObject(medianResults(trials)) };
  writeFileAtomic(paths.resultsJson, [JSON.stringify(json, null, 2) + '\n']);
}

interface TrialCheckpointing {
  /** The trial's model folder (checkpoints go to its checkpoint-<step>/). */
  dir: string;
  trial: number;
  fingerprint: string;
  /** The checkpoint to continue from (its weights are restored here). */
  resume: FinetuningTrainingState | null;
  signal: AbortSignal | undefined;
  onStep: FinetuneOptions['onStep'];
  killAtStep: number | undefined;
}

/** The examples one run of batches draws from: every task's (mixed batches) or one task's, with its settings. */
interface TrainingLane {
  /** The task of single-task batches (null: the tasks' examples mixed). */
  task: string | null;
  items: BatchItem[];
  batchSize: number;
  stepsPerEpoch: number;
  /** Updates on this lane's batches: floor(stepsPerEpoch x num_train_epochs). */
  steps: number;
  learningRate: number;
}

function trainingLane(items: BatchItem[], hp: FinetuningHparams, task: string | null): TrainingLane {
  const stepsPerEpoch = Math.ceil(items.length / hp.train_batch_size);
  return {
    task, items, batchSize: hp.train_batch_size, stepsPerEpoch, steps: Math.floor(stepsPerEpoch * hp.num_train_epochs), learningRate: hp.learning_rate,
  };
}

/** The examples the model runs at once: a micro-batch of training (train_batch_size / gradient_accumulation_steps, the largest task's), or an eval/predict batch. */
export function modelBatchCapacity(hp: FinetuningHparams): number {
  const train = Math.max(...hp.task_names.map((task) => taskHparams(hp, task).train_batch_size));
  return Math.max(train / hp.gradient_accumulation_steps, hp.eval_batch_size, hp.predict_batch_size);
}

/** A fresh shuffle of 0 .. n-1. */
function shuffled(n: number, rng: Rng): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * The training loop of one trial. Mixed batches (one lane): each epoch a fresh shuffle split into
 * batches (the last one smaller). Single-task batches (a lane per task): each lane shuffled per
 * its own epoch, and the updates' order of lanes a seeded shuffle of every lane's steps (so the
 * tasks mix in proportion), each lane on its own learning-rate schedule, its updates leaving the
 * other tasks' heads alone. With gradient accumulation a batch runs as micro-batches whose
 * gradients add up (the loss is a sum over examples); checkpoints fall between updates. Resuming
 * replays the shuffles before the checkpoint, so data order, dropout and learning rates continue
 * exactly as without the interruption.
 */
function* trainTrial(
  model: FinetuningModel, lanes: readonly TrainingLane[], singleTaskBatches: boolean, seed: number, hp: FinetuningHparams,
  k: Kernels, log: (s: string) => void, stream: FinetuneOptions['progressStream'], label: string, ckpt: TrialCheckpointing,
): Generator<void, { interrupted: boolean; step: number }> {
  const numLayers = model.config.num_hidden_layers;
  const optimizer = new AdamW(k, model.params, { ...ELECTRA_ADAMW, weightDecayRate: hp.weight_decay_rate },
    (name) => layerwiseLrScale(name, { numLayers, decay: hp.layerwise_lr_decay, fixTop: hp.layerwise_lr_decay_fix_top }));
  const schedules = lanes.map((lane): LrSchedule => ({
    learningRate: lane.learningRate, numTrainSteps: lane.steps, numWarmupSteps: 0, lrDecayPower: 1, warmupProportion: hp.warmup_proportion,
  }));
  const frozen = lanes.map((lane) => (lane.task === null ? [] : otherHeads(model, lane.task)));
  const steps = lanes.reduce((sum, lane) => sum + lane.steps, 0);
  // Single-task batches read as one pass of `steps` batches; mixed ones as epochs.
  const stepsPerEpoch = singleTaskBatches ? steps : lanes[0]!.stepsPerEpoch;
  const A = hp.gradient_accumulation_steps;
  const resume = ckpt.resume;
  let step = 0;
  if (resume) {
    if (resume.trainSteps !== steps || resume.step >= steps || (resume.epoch - 1) * stepsPerEpoch + resume.batchInEpoch !== resume.step) {
      throw new Error(`${ckpt.dir}: checkpoint-${resume.step} (epoch ${resume.epoch}, batch ${resume.batchInEpoch} of a run of ${resume.trainSteps} steps) does not fit this run of ${steps} steps, ${stepsPerEpoch} per epoch`);
    }
    restoreFinetuningCheckpoint(join(ckpt.dir, `checkpoint-${resume.step}`), model, optimizer);
    step = resume.step;
  } else if (singleTaskBatches) {
    log(`training for ${steps} steps in single-task batches: ${lanes.map((l) => `${l.task} ${l.steps} (${l.stepsPerEpoch} per epoch, batch ${l.batchSize}, lr ${l.learningRate})`).join(', ')}${A > 1 ? `, each batch as ${A} micro-batches` : ''}`);
  } else {
    log(`training for ${steps} steps (${stepsPerEpoch} per epoch, batch ${lanes[0]!.batchSize}${A > 1 ? ` as ${A} micro-batches of ${lanes[0]!.batchSize / A}` : ''})`);
  }
  const save = (epoch: number, batchInEpoch: number, lossSum: number, examples: number, kill: boolean): void => {
    writeFinetuningCheckpoint(ckpt.dir, model, optimizer, {
      trial: ckpt.trial, seed, step, trainSteps: steps, epoch, batchInEpoch, epochLossSum: lossSum, epochExamples: examples,
      fingerprint: ckpt.fingerprint,
    }, kill ? () => process.kill(process.pid, 'SIGKILL') : undefined);
  };
  /** One update on a batch of lane t (yields between micro-batches); returns the batch's summed loss. */
  const update = function* (batch: BatchItem[], t: number): Generator<void, number> {
    const stepSeed = mix32((mix32(seed ^ STREAM_DROPOUT) ^ Math.imul(step + 1, 0x9e3779b1)) >>> 0);
    const loss = yield* accumulateGradients(model, batch, lanes[t]!.batchSize / A, stepSeed);
    if (!Number.isFinite(loss)) throw new Error(`training diverged at step ${step}: loss ${loss}`);
    const done = singleTaskBatches ? laneSteps[t]!++ : step;
    optimizer.update(learningRateAt(done, schedules[t]!), frozen[t]);
    step++;
    return loss;
  };
  /** After an update: the step callback, a checkpoint when due or aborted; true when aborted. */
  const afterUpdate = (epoch: number, batchInEpoch: number, lossSum: number, examples: number): boolean => {
    ckpt.onStep?.(ckpt.trial, step);
    const aborted = ckpt.signal?.aborted === true && step < steps;
    if ((step % hp.save_checkpoints_steps === 0 && step < steps) || aborted) save(epoch, batchInEpoch, lossSum, examples, ckpt.killAtStep === step);
    return aborted;
  };
  const laneSteps = lanes.map(() => 0);

  if (singleTaskBatches) {
    const plan = batchPlan(lanes.map((lane) => lane.steps), seed);
    for (let i = 0; i < step; i++) laneSteps[plan[i]!]!++;
    const shuffles = lanes.map((_, t) => new Rng(mix32((seed ^ STREAM_SHUFFLE ^ Math.imul(t + 1, 0x9e3779b1)) >>> 0)));
    const orders: number[][] = lanes.map(() => []);
    const epochsShuffled = lanes.map(() => 0);
    let lossSum = resume ? resume.epochLossSum : 0;
    let examples = resume ? resume.epochExamples : 0;
    const progress = new Progress({ label, total: steps, unit: 'items', stream, start: step });
    while (step < steps) {
      const t = plan[step]!;
      const lane = lanes[t]!;
      const epoch = Math.floor(laneSteps[t]! / lane.stepsPerEpoch);
      while (epochsShuffled[t]! <= epoch) {
        orders[t] = shuffled(lane.items.length, shuffles[t]!);
        epochsShuffled[t]!++;
      }
      const b = laneSteps[t]! % lane.stepsPerEpoch;
      const batch = orders[t]!.slice(b * lane.batchSize, (b + 1) * lane.batchSize).map((i) => lane.items[i]!);
      lossSum += yield* update(batch, t);
      examples += batch.length;
      progress.update(step);
      if (afterUpdate(1, step, lossSum, examples)) {
        progress.finish(`interrupted at step ${step}`);
        return { interrupted: true, step };
      }
      yield;
    }
    progress.finish(`loss ${(lossSum / Math.max(1, examples)).toFixed(4)}`);
    return { interrupted: false, step };
  }

  const { items, batchSize: B } = lanes[0]!;
  const shuffle = new Rng(mix32((seed ^ STREAM_SHUFFLE) >>> 0));
  const epochs = Math.ceil(steps / stepsPerEpoch);
  const firstEpoch = Math.floor(step / stepsPerEpoch) + 1;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const order = shuffled(items.length, shuffle);
    if (epoch < firstEpoch) continue; // replayed: done before the checkpoint
    const epochStart = (epoch - 1) * stepsPerEpoch;
    const inEpoch = Math.min(stepsPerEpoch, steps - epochStart);
    // A checkpoint inside this epoch carries its loss so far; one at its end belongs to the epoch before.
    const resumed = resume !== null && epoch === resume.epoch;
    let lossSum = resumed ? resume.epochLossSum : 0;
    let examples = resumed ? resume.epochExamples : 0;
    const firstBatch = step - epochStart;
    const progress = new Progress({ label: `${label} epoch ${epoch}/${epochs}`, total: inEpoch, unit: 'items', stream, start: firstBatch });
    for (let b = firstBatch; b < inEpoch; b++) {
      const batch = order.slice(b * B, (b + 1) * B).map((i) => items[i]!);
      lossSum += yield* update(batch, 0);
      examples += batch.length;
      progress.update(b + 1);
      if (afterUpdate(epoch, b + 1, lossSum, examples)) {
        progress.finish(`interrupted at step ${step}`);
        return { interrupted: true, step };
      }
      yield;
    }
    progress.finish(`loss ${(lossSum / Math.max(1, examples)).toFixed(4)}`);
  }
  return { interrupted: false, step };
}

/**
 * Forward and backward of a training batch as micro-batches of `micro` examples (the first with
 * stepSeed's dropout, each further one its own), their gradients summed into the zeroed
 * params.grads: the loss is a sum over examples, so this is the whole batch's gradient. Yields
 * between micro-batches; returns the summed loss.
 */
export function* accumulateGradients(model: FinetuningModel, batch: readonly BatchItem[], micro: number, stepSeed: number): Generator<void, number> {
  model.params.zeroGrads();
  let loss = 0;
  for (let j = 0; j * micro < batch.length; j++) {
    if (j > 0) yield;
    const dropoutSeed = j === 0 ? stepSeed : mix32((stepSeed ^ Math.imul(j, 0x27d4eb2f)) >>> 0);
    loss += model.run(batch.slice(j * micro, (j + 1) * micro), { training: true, stepSeed: dropoutSeed, backward: true }).loss;
  }
  return loss;
}

/** The task (lane) of each update of a run in single-task batches: every lane's steps, shuffled with the trial's seed. */
export function batchPlan(laneSteps: readonly number[], seed: number): number[] {
  const lanes = laneSteps.flatMap((n, t) => Array<number>(n).fill(t));
  return shuffled(lanes.length, new Rng(mix32((seed ^ STREAM_PLAN) >>> 0))).map((i) => lanes[i]!);
}

/** The arena runs of every head but the task's, in order. */
function otherHeads(model: FinetuningModel, task: string): ArenaRun[] {
  const others = new Set([...model.heads.keys()].filter((name) => name !== task).flatMap((name) => model.headParameterNames(name)));
  return model.params.entries.filter((e) => others.has(e.name)).map((e) => ({ offset: e.offset, size: e.size })).sort((a, b) => a.offset - b.offset);
}
