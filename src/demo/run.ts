// `electra demo` as a library call: corpus -> vocabulary -> datasets -> pre-training (ELECTRA, and
// masked LM with --compare-mlm) -> fine-tuning from each model and from random initialisation ->
// results table -> report.html. Each stage reuses its output when a previous run finished it with
// the same inputs, so a second run only redraws the table and the report. Aborting options.signal
// (Ctrl-C) stops pre-training or fine-tuning after the current update with a checkpoint saved, and
// runDemo rejects with DemoInterrupted; a rerun reuses the finished stages and resumes that one.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { readManifest } from '../data/manifest.js';
import { writeFileAtomic } from '../io/files.js';
import { bf16RunsNative, kernels as defaultKernels, type Kernels } from '../kernels/index.js';
import { buildDataset, corpusDirs, trainVocab, writeCorpora, type CorpusSummary, type ProgressStream } from './data.js';
import { demoFinetune, DEMO_TASKS, type FinetuneSummary, type Init } from './finetune.js';
import { demoPretrain, readMetricsLog, type Objective, type PretrainSummary } from './pretrain.js';
import { renderReport, type ReportStage } from './report.js';
import {
  DEFAULT_MINUTES, DEFAULT_OUTPUT_DIR, DEFAULT_SEED, DEMO_PRECISIONS, DEMO_SCALE, QUICK_SCALE, modelShape, type DemoOptions, type DemoPrecision, type DemoScale,
} from './settings.js';
import { DemoInterrupted, StageBook, type StageOutcome, type StageRecord } from './stages.js';
import { formatTable, markdownTable, resultsTable, type ResultsTable } from './table.js';

/** The demo's results table, report file and per-stage records. */
export interface DemoResult {
  outputDir: string;
  table: ResultsTable;
  /** The table as printed. */
  tableText: string;
  reportFile: string;
  resultsFile: string;
  stages: ReportStage[];
  seconds: number;
}

export const REPORT_FILE = 'report.html';
export const RESULTS_FILE = 'results.md';
export const RESULTS_JSON = 'results.json';
export const LOG_FILE = 'demo.log';

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

function minutesLabel(minutes: number): string {
  return `${Number(minutes.toFixed(3))}min`;
}

/** Checks the options and fills in the defaults. */
export function resolveDemoOptions(o: DemoOptions): {
  outputDir: string; minutes: number; updates: number | undefined; seed: number; compareMlm: boolean; compareElectric: boolean; quick: boolean;
  precision: DemoPrecision;
} {
  const minutes = o.minutes ?? DEFAULT_MINUTES;
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60) throw new UsageError(`minutes must be a number in (0, 1440], got ${minutes}`);
  const seed = o.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0x7fffffff) throw new UsageError(`seed must be an integer in [0, 2147483647], got ${seed}`);
  const updates = o.updates;
  if (updates !== undefined && !(Number.isInteger(updates) && updates >= 1 && updates <= 10_000_000)) {
    throw new UsageError(`updates must be an integer in [1, 10000000], got ${updates}`);
  }
  const precision = o.precision ?? 'auto';
  if (!DEMO_PRECISIONS.includes(precision)) throw new UsageError(`precision must be one of ${DEMO_PRECISIONS.join(', ')}, got ${String(precision)}`);
  return {
    outputDir: resolve(o.outputDir ?? DEFAULT_OUTPUT_DIR), minutes, updates, seed, compareMlm: o.compareMlm === true,
    compareElectric: o.compareElectric === true, quick: o.quick === true, precision,
  };
}

/**
 * The pre-training precision 'auto' stands for: bf16 where VDPBF16PS runs (more updates in the
 * budget, the same curve per update), fp32 elsewhere and for a fixed update count, whose results
 * must not depend on the machine.
 */
export function demoPrecision(precision: DemoPrecision, updates: number | undefined, k: Kernels): 'fp32' | 'bf16' {
  if (precision !== 'auto') return precision;
  return updates === undefined && bf16RunsNative(k) ? 'bf16' : 'fp32';
}

/** Runs one stage through the stage book (reused when its key matches), reporting its outcome. */
export type StageRunner = <T>(
  name: string, key: unknown, work: () => Promise<{ summary: string; data: T }>, stillThere?: (d: T) => boolean,
) => Promise<StageRecord<T>>;

export interface DatasetSummary {
  examples: number;
  tokens: number;
  heldoutExamples: number;
}

/** The data stages: corpus text, WordPiece vocabulary, pre-training and held-out datasets. */
export async function dataStages(
  stage: StageRunner, dirs: ReturnType<typeof corpusDirs>, scale: DemoScale, stream: ProgressStream | undefined,
): Promise<{ vocab: StageRecord<{ size: number }>; dataset: StageRecord<DatasetSummary> }> {
  const ref = (r: StageRecord<unknown>): string => `${r.id}@${r.finishedAt}`;
  const corpus = await stage<CorpusSummary>('corpus', { v: 1, docs: scale.corpusDocs, heldout: scale.heldoutDocs }, async () => {
    const data = writeCorpora(dirs.corpus, dirs.heldout, scale, stream);
    const parts = data.corpora.map((c) => `${c.name} ${c.documents} docs`).join(', ');
    const bytes = data.corpora.reduce((s, c) => s + c.bytes, 0);
    return { summary: `${parts}: ${mb(bytes)} of pre-training text; ${data.heldout.documents} Brown documents (${mb(data.heldout.bytes)}) held out`, data };
  }, () => existsSync(dirs.corpus) && existsSync(dirs.heldout));

  const vocab = await stage<{ size: number }>('vocab', { corpus: ref(corpus), size: scale.vocabSize }, async () => {
    const size = await trainVocab(dirs.corpus, dirs.vocab, scale.vocabSize, stream);
    return { summary: `${size}-entry WordPiece vocabulary trained on the pre-training text -> vocab.txt`, data: { size } };
  }, () => existsSync(dirs.vocab));

  const dataset = await stage<DatasetSummary>('dataset', { vocab: ref(vocab), seq: scale.maxSeqLength }, async () => {
    const train = await buildDataset('dataset: pre-training', dirs.corpus, dirs.vocab, dirs.pretrainData, scale.maxSeqLength, 0, stream);
    const held = await buildDataset('dataset: held-out', dirs.heldout, dirs.vocab, dirs.heldoutData, scale.maxSeqLength, 0, stream);
    const examples = train.manifest.counts.examples;
    const tokens = examples * scale.maxSeqLength;
    return {
      summary: `${examples} pre-training examples of ${scale.maxSeqLength} tokens (${(tokens / 1e6).toFixed(2)}M token slots), ${held.manifest.counts.examples} held-out`,
      data: { examples, tokens, heldoutExamples: held.manifest.counts.examples },
    };
  }, () => {
    try {
      readManifest(dirs.pretrainData);
      readManifest(dirs.heldoutData);
      return true;
    } catch {
      return false;
    }
  });

  return { vocab, dataset };
}

/** Runs the whole demo (corpus, vocabulary, dataset, pre-training, fine-tuning) and writes its table and report. */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const started = performance.now();
  const { outputDir, minutes, updates, seed, compareMlm, compareElectric, quick, precision: precisionOption } = resolveDemoOptions(options);
  // What the pre-training length is called in model names, labels and messages.
  const length = updates !== undefined ? `${updates} updates` : `${minutes} min`;
  const lengthLabel = updates !== undefined ? `${updates}updates` : minutesLabel(minutes);
  const scale = quick ? QUICK_SCALE : DEMO_SCALE;
  const k = options.kernels ?? defaultKernels();
  const precision = demoPrecision(precisionOption, updates, k);
  const stream: ProgressStream | undefined = options.progressStream;
  const live = Boolean((stream ?? process.stderr).isTTY);
  const say = options.log ?? ((line: string) => process.stdout.write(line + '\n'));
  mkdirSync(outputDir, { recursive: true });
  const logFile = join(outputDir, LOG_FILE);
  const detail = (line: string): void => appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`);
  const announce = (line: string): void => {
    say(line);
    detail(line);
  };
  const signal = options.signal;
  const interrupted = (e: DemoInterrupted): DemoInterrupted => {
    detail(e.message);
    return e;
  };
  const dirs = corpusDirs(outputDir);
  const book = new StageBook(outputDir);
  const stages: ReportStage[] = [];
  const compared = [...(compareMlm ? ['masked LM'] : []), ...(compareElectric ? ['Electric'] : [])].join(' and ');
  announce(`electra demo: ${length} of pre-training in ${precision}${precisionOption === 'auto' ? ` (auto: ${precision === 'bf16' ? 'this CPU runs VDPBF16PS' : updates !== undefined ? 'a fixed update count' : 'no fast bf16 on this CPU'})` : ''}` +
    `${compared ? ` (and as much for ${compared})` : ''}, seed ${seed}, ` +
    `${k.name} backend on ${availableParallelism()} cores; output in ${outputDir}`);

  // What downstream keys name: the upstream stage's inputs and the run that produced its output.
  const ref = (r: StageRecord<unknown>): string => `${r.id}@${r.finishedAt}`;

  async function stage<T>(name: string, key: unknown, work: () => Promise<{ summary: string; data: T }>, stillThere?: (d: T) => boolean): Promise<StageRecord<T>> {
    // A stop asked for during a stage that cannot pause (data, vocabulary) takes effect here.
    if (signal?.aborted) throw interrupted(new DemoInterrupted(name, 'before it started'));
    let out: StageOutcome<T>;
    try {
      out = await book.run(name, key, work, stillThere);
    } catch (e) {
      throw e instanceof DemoInterrupted ? interrupted(e) : e;
    }
    const r = out.record;
    announce(`[${name}] ${r.summary}${out.reused ? ' (reused)' : ` (${r.seconds.toFixed(1)} s)`}`);
    stages.push({ stage: name, summary: r.summary, seconds: r.seconds, reused: out.reused });
    return r;
  }

  const { vocab, dataset } = await dataStages(stage, dirs, scale, stream);
  const vocabSize = vocab.data.size;

  const budgetSeconds = minutes * 60;
  const pretrained = new Map<Objective, StageRecord<PretrainSummary>>();
  const objectives: Objective[] = ['electra', ...(compareMlm ? ['mlm' as const] : []), ...(compareElectric ? ['electric' as const] : [])];
  for (const objective of objectives) {
    const modelName = `${objective}-${lengthLabel}`;
    // Masked LM and Electric get the ELECTRA run's compute (FLOPs), as the papers compare them.
    const electra = pretrained.get('electra');
    const flopBudget = objective !== 'electra' && electra ? electra.data.stepFlops * electra.data.numTrainSteps : undefined;
    const upstream = electra && objective !== 'electra' ? ref(electra) : ref(dataset);
    const key = { dataset: ref(dataset), upstream, minutes, seed, scale, ...(updates !== undefined ? { updates } : {}), ...(precision !== 'fp32' ? { precision } : {}) };
    const r = await stage<PretrainSummary>(`pretrain-${objective}`, key, async () => {
      announce(`[pretrain-${objective}] pre-training ${modelName} for ` +
        `${flopBudget !== undefined ? `${(flopBudget / 1e12).toFixed(2)} TFLOP, the ELECTRA run's compute` : length} ` +
        `(progress: ${join('models', modelName, 'metrics.jsonl')})`);
      const s = await demoPretrain({
        outputDir, scale, objective, modelName, vocabSize, seed, budgetSeconds, heldoutData: dirs.heldoutData, upstream,
        ...(precision !== 'fp32' ? { hparams: { precision } } : {}),
        ...(flopBudget !== undefined ? { flopBudget, noTimeLimit: updates !== undefined } : updates !== undefined ? { fixedSteps: updates } : {}),
        // The trainer draws its bar on stderr only: not when the caller gave another stream.
        kernels: k, log: detail, note: live ? detail : announce, progressBar: stream === undefined,
        stage: `pretrain-${objective}`, ...(signal ? { signal } : {}),
      });
      const first = s.heldout[0]!;
      const last = s.heldout[s.heldout.length - 1]!;
      const model = s.discriminator
        ? `discriminator ${s.discriminator.num_hidden_layers}x${s.discriminator.hidden_size} + generator ${s.generator.num_hidden_layers}x${s.generator.hidden_size}`
        : `masked LM ${s.generator.num_hidden_layers}x${s.generator.hidden_size}`;
      const heldout = s.discriminator
        ? `held-out replaced-token AUC ${first.disc_auc!.toFixed(3)} -> ${last.disc_auc!.toFixed(3)}`
        : `held-out masked-LM accuracy ${first.masked_lm_accuracy.toFixed(3)} -> ${last.masked_lm_accuracy.toFixed(3)}`;
      return {
        summary: `${objective.toUpperCase()} ${model} (${(s.parameters / 1e6).toFixed(2)}M parameters): ${s.numTrainSteps}` +
          `${s.numTrainSteps < s.plannedSteps ? ` (of ${s.plannedSteps} planned, out of time)` : ''} updates (${s.updatesReason}) of ` +
          `${scale.trainBatchSize}x${scale.maxSeqLength} (${(s.stepFlops * s.numTrainSteps / 1e12).toFixed(2)} TFLOP) in ${s.trainSeconds.toFixed(0)} s; ${heldout}`,
        data: s,
      };
    }, (s) => existsSync(s.finalCheckpoint));
    pretrained.set(objective, r);
  }

  const labels = new Map<Init['kind'], string>([['electra', `ELECTRA ${lengthLabel}`], ['random', 'random init']]);
  if (compareMlm) labels.set('mlm', `MLM ${lengthLabel}`);
  if (compareElectric) labels.set('electric', `Electric ${lengthLabel}`);
  const inits: { init: Init; upstream: string }[] = [];
  for (const [objective, r] of pretrained) {
    // ELECTRA and Electric fine-tune their discriminator; the masked-LM run's encoder is its generator.
    const folder = join(r.data.finalCheckpoint, objective === 'mlm' ? 'generator' : 'discriminator');
    inits.push({ init: { kind: objective, modelName: r.data.modelName, checkpoint: folder }, upstream: ref(r) });
  }
  inits.splice(1, 0, { init: { kind: 'random', modelName: 'random-init' }, upstream: ref(vocab) });
  const finetuned: FinetuneSummary[] = [];
  const finetuneScale = {
    model: modelShape(scale), seq: scale.maxSeqLength,
    genre: [scale.genreTrain, scale.genreDev, scale.genreEpochs, scale.genrePassageWords, scale.genreLearningRate],
    pos: [scale.posTrain, scale.posDev, scale.posEpochs, scale.posLearningRate], batch: scale.finetuneBatchSize,
  };
  for (const task of DEMO_TASKS) {
    for (const { init, upstream } of inits) {
      const name = `finetune-${init.kind}-${task}`;
      const r = await stage<FinetuneSummary>(name, { upstream, task, seed, finetuneScale, vocab: ref(vocab) }, async () => {
        const onStep = options.onFinetuneStep;
        const s = await demoFinetune(outputDir, scale, task, init, dirs.vocab, vocabSize, seed, k, detail, stream, {
          stage: name, ...(signal ? { signal } : {}), ...(onStep ? { onStep: (step: number) => onStep(name, step) } : {}),
        });
        return {
          summary: `${task} from ${labels.get(init.kind)}: accuracy ${s.metrics['accuracy']!.toFixed(2)} ` +
            `(${s.trainExamples} train / ${s.devExamples} dev examples, ${s.trainSteps} updates)`,
          data: s,
        };
      }, (s) => existsSync(s.resultsFile));
      finetuned.push(r.data);
    }
  }

  const table = resultsTable(finetuned, labels, [...pretrained].map(([objective, r]) => ({
    label: labels.get(objective)!, updates: r.data.numTrainSteps, planned: r.data.plannedSteps, reason: r.data.updatesReason,
  })));
  const tableText = formatTable(table);
  const resultsFile = join(outputDir, RESULTS_FILE);
  writeFileAtomic(resultsFile, [`# electra demo results\n\nDev-set accuracy (%), ${length} of pre-training, seed ${seed}.\n\n${markdownTable(table)}\n`]);
  writeFileAtomic(join(outputDir, RESULTS_JSON), [JSON.stringify({ minutes, updates: updates ?? null, seed, table, finetuning: finetuned }, null, 2) + '\n']);

  const reportFile = join(outputDir, REPORT_FILE);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const seconds = (performance.now() - started) / 1000;
  const html = renderReport({
    title: 'ELECTRA, pre-trained and fine-tuned on this machine',
    generatedAt: new Date().toISOString(),
    machine: `${availableParallelism()} cores (${cpu.trim()}), ${k.name} backend${k.isa ? ` (${k.isa})` : ''}, this run ${seconds.toFixed(0)} s`,
    settings: {
      minutes, updates: updates ?? null, seed, compareMlm, compareElectric, scale,
      pretraining: [...pretrained.values()].map((r) => r.key),
    },
    stages,
    pretraining: [...pretrained.values()].map((r) => ({ summary: r.data, metrics: readMetricsLog(r.data.modelDir) })),
    finetuning: finetuned,
    table,
  });
  writeFileAtomic(reportFile, [html]);
  announce(`\n${tableText}\n`);
  announce(`report: ${reportFile}\nresults: ${resultsFile}\nlog: ${logFile}\ntook ${seconds.toFixed(0)} s`);
  return { outputDir, table, tableText, reportFile, resultsFile, stages, seconds };
}

/** The table of a finished demo without running anything (e.g. for scripts). */
export function readDemoResults(outputDir: string): { minutes: number; seed: number; table: ResultsTable } {
  return JSON.parse(readFileSync(join(outputDir, RESULTS_JSON), 'utf8')) as { minutes: number; seed: number; table: ResultsTable };
}
