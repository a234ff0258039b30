// `npm run experiment -- ...`: the pre-training recipe study (issue 21). Pre-trains the demo's model
// with named recipes (ELECTRA, masked LM at the same recipe's ELECTRA FLOPs) for budgets in updates
// (or minutes turned into updates at a measured or given ms/update), fine-tunes every model and
// random initialisation on out-of-domain spam classification and the demo's Brown tasks with several
// seeds, and prints medians and spread. Every finished run is appended to results.jsonl in the
// output folder, so rerunning the same command skips them and resumes where it stopped.
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { UsageError } from '../src/errors.js';
import { writeFileAtomic } from '../src/io/files.js';
import { kernels as defaultKernels, type Kernels } from '../src/kernels/index.js';
import { spamAssassinExamples } from '../src/finetune/data/spam-assassin.js';
import { resolvePretrainingHparams } from '../src/pretrain/hparams.js';
import { MaskedLM } from '../src/pretrain/inference.js';
import { loadDiscriminator, loadMaskedLM } from '../src/pretrain/load.js';
import { buildDataset, corpusDirs } from '../src/demo/data.js';
import { readManifest } from '../src/data/manifest.js';
import { demoFinetune, evenly, type FinetuneTaskName, type Init } from '../src/demo/finetune.js';
import { demoPretrain, measureStep, pretrainingHparamValues, type Objective } from '../src/demo/pretrain.js';
import { dataStages, type DatasetSummary, type StageRunner } from '../src/demo/run.js';
import { DEMO_SCALE, QUICK_SCALE, withOverrides, type DemoScale } from '../src/demo/settings.js';
import { StageBook, stageId, type StageRecord } from '../src/demo/stages.js';

type Hparams = Record<string, unknown>;

/**
 * Pre-training recipes: changes to the demo's pre-training hparams (the reference's names; the
 * demo itself runs temperature 3, generator 1/2 width, learning rate 1e-3, 10% warm-up).
 */
export const RECIPES: Record<string, Hparams> = {
  demo: {},
  // The reference's values of the levers the demo changes (ELECTRA-Small: lr 5e-4, generator 1/4, temperature 1).
  reference: { temperature: 1, generator_hidden_size: 0.25, learning_rate: 5e-4 },
  t1: { temperature: 1 },
  t2: { temperature: 2 },
  // Hot samples while the discriminator leaves the all-real phase, the reference's temperature by the end.
  t3to1: { final_temperature: 1 },
  gen25: { generator_hidden_size: 0.25 },
  lr5e4: { learning_rate: 5e-4 },
  lr2e3: { learning_rate: 2e-3 },
  mask25: { mask_prob: 0.25 },
  nodrop: { model_hparam_overrides: { hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 } },
  // In-domain text for the e-mail task (see DATA_MIX_KEY).
  mix: { data_mix: 'spam_train' },
  // The reference's temperature on the mix: at 30 minutes temperature 1 led on POS, the mix on e-mail.
  t1mix: { temperature: 1, data_mix: 'spam_train' },
  // bf16 GEMM inputs (as the reference's TPUs multiply): more updates a minute where the CPU has
  // VDPBF16PS at full rate; give its update time with --ms-per-update 37.2,bf16=MS.
  bf16: { precision: 'bf16' },
};

/**
 * A recipe key the experiment itself reads (not an hparam): `data_mix: 'spam_train'` pre-trains on the
 * demo's text plus the spam task's train-split e-mails (labels unused; no dev e-mail), built once
 * into `<out>/mix-spam_train` with the demo's vocabulary and given to pre-training as `pretrain_tfrecords`.
 */
export const DATA_MIX_KEY = 'data_mix';
const DATA_MIXES = ['spam_train'];

/** The train-split e-mails as pre-training text: one document each, in lines of 12 words (an e-mail is one long line, which the builder would cut to one example). */
export function spamTrainText(): string {
  const dev = new Set(spamAssassinExamples('dev').map((e) => e.textA.toLowerCase()));
  const train = spamAssassinExamples('train');
  if (train.some((e) => dev.has(e.textA.toLowerCase()))) throw new Error('spam_assassin: a dev e-mail is in the train split');
  const lines = (text: string): string => {
    const words = text.split(/\s+/).filter((w) => w !== '');
    const out: string[] = [];
    for (let i = 0; i < words.length; i += 12) out.push(words.slice(i, i + 12).join(' '));
    return out.join('\n');
  };
  return train.map((e) => lines(e.textA)).join('\n\n') + '\n';
}

/** Fine-tuning recipes: changes to the demo's fine-tuning hparams, the same for every initialisation. */
export const FINETUNE_RECIPES: Record<string, Hparams> = {
  demo: {},
  lr1e3: { learning_rate: 1e-3 },
  lr1e4: { learning_rate: 1e-4 },
  ep12: { num_train_epochs: 12 },
  ep24: { num_train_epochs: 24 },
  // The head on the mean of the token states: pre-training never trains the [CLS] state.
  mean: { summary_type: 'mean' },
  meanep24: { summary_type: 'mean', num_train_epochs: 24 },
};

export const EXPERIMENT_TASKS: readonly FinetuneTaskName[] = ['spam_assassin', 'brown_genre', 'brown_pos'];

/**
 * Training examples of the e-mail task (the demo's scale would give it the genre task's 2,000):
 * with 2,000 e-mails random initialisation already scores about 97%, which leaves pre-training
 * nothing to show; a few hundred is where a representation learnt beforehand can matter.
 */
export const SPAM_TRAIN_EXAMPLES = 500;

export interface ExperimentOptions {
  outputDir: string;
  scale: DemoScale;
  /**
   * Budgets in updates, or in minutes (turned into updates at msPerUpdate, else at a measured speed;
   * msPerUpdateByRecipe: a recipe's own update time, e.g. one that sets `precision`).
   */
  budgets: { updates: number[] } | { minutes: number[]; msPerUpdate?: number; msPerUpdateByRecipe?: Record<string, number> };
  /** 'random', 'electra:<recipe>' or 'mlm:<recipe>'. */
  arms: string[];
  recipes: Record<string, Hparams>;
  finetune: string;
  finetuneRecipes: Record<string, Hparams>;
  pretrainSeeds: number[];
  finetuneSeeds: number[];
  tasks: FinetuneTaskName[];
  kernels?: Kernels;
  log?: (line: string) => void;
  /** Progress bars (default: stderr). */
  progress?: boolean;
  /** Run nothing: print the table of the runs already recorded. */
  reportOnly?: boolean;
}

interface Arm {
  name: string;
  objective: Objective | 'random';
  recipe: string;
}

/** A finished pre-training run. */
interface PretrainRecord {
  kind: 'pretrain';
  id: string;
  arm: string;
  budget: string;
  seed: number;
  updates: number;
  stepFlops: number;
  trainSeconds: number;
  secondsPerStep: number;
  heldout: { disc_auc: number | null; disc_accuracy: number | null; disc_all_real_accuracy: number | null; masked_lm_accuracy: number };
  /** Mean pairwise cosine of the encoder's final [CLS] states over spam dev e-mails (near 1: nearly constant). */
  clsCosine: number;
  checkpoint: string;
}

/** A finished fine-tuning run. */
interface FinetuneRecord {
  kind: 'finetune';
  id: string;
  arm: string;
  budget: string;
  pretrainSeed: number | null;
  finetune: string;
  task: FinetuneTaskName;
  seed: number;
  accuracy: number;
  seconds: number;
}

/** A budget in minutes turned into updates for one recipe. */
interface BudgetRecord {
  kind: 'budget';
  id: string;
  recipe: string;
  minutes: number;
  msPerUpdate: number;
  measured: boolean;
  updates: number;
}

type ResultRecord = PretrainRecord | FinetuneRecord | BudgetRecord;

export interface Cell {
  budget: string;
  task: string;
  arm: string;
  finetune: string;
  n: number;
  median: number;
  min: number;
  max: number;
}

export interface ExperimentResult {
  resultsFile: string;
  newRuns: number;
  skippedRuns: number;
  cells: Cell[];
  table: string;
}

export const RESULTS_FILE = 'results.jsonl';
const NAME = /^[A-Za-z0-9_.]+$/;

function parseArm(spec: string, recipes: Record<string, Hparams>): Arm {
  if (spec === 'random') return { name: 'random', objective: 'random', recipe: '-' };
  const m = /^(electra|mlm):(.+)$/.exec(spec);
  if (!m) throw new UsageError(`--arms: '${spec}' is not random, electra:<recipe> or mlm:<recipe>`);
  if (!(m[2]! in recipes)) throw new UsageError(`--arms: unknown recipe '${m[2]}' (known: ${Object.keys(recipes).join(', ')})`);
  const mix = recipes[m[2]!]![DATA_MIX_KEY];
  if (mix !== undefined && !DATA_MIXES.includes(mix as string)) {
    throw new UsageError(`recipe '${m[2]}': ${DATA_MIX_KEY} must be one of ${DATA_MIXES.join(', ')}, got ${JSON.stringify(mix)}`);
  }
  return { name: spec, objective: m[1] as Objective, recipe: m[2]! };
}

/** The recipe's hparams for this objective: the generator's levers mean nothing to masked LM. */
function recipeFor(objective: Objective, recipe: Hparams): Hparams {
  if (objective !== 'mlm') return recipe;
  const { temperature: _t, generator_hidden_size: _g, generator_layers: _l, disc_weight: _d, ...rest } = recipe;
  return rest;
}

/**
 * Mean cosine similarity between the final [CLS] states of `count` dev e-mails, pair by pair: how
 * much the sentence representation that classification starts from varies between inputs.
 */
export function clsCosine(checkpoint: string, objective: Objective, k: Kernels, maxLength: number, count = 64): number {
  const texts = evenly(spamAssassinExamples('dev'), count).map((e) => e.textA);
  const model = objective === 'mlm' ? loadMaskedLM(checkpoint, { kernels: k }) : loadDiscriminator(checkpoint, { kernels: k });
  const inputs = { inputIds: model.encode(texts, { truncation: 'longest_first', maxLength }).map((e) => e.ids) };
  // The masked LM's vocabulary logits are not needed: no positions.
  const out = model instanceof MaskedLM ? model.predict(inputs, { positions: [] }) : model.predict(inputs);
  const H = out.hiddenSize;
  const cls = texts.map((_, b) => out.lastHiddenState.subarray(b * out.seqLen * H, b * out.seqLen * H + H));
  const norm = (v: Float32Array): number => Math.hypot(...v);
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < cls.length; i++) {
    for (let j = i + 1; j < cls.length; j++) {
      let dot = 0;
      for (let h = 0; h < H; h++) dot += cls[i]![h]! * cls[j]![h]!;
      sum += dot / (norm(cls[i]!) * norm(cls[j]!));
      pairs++;
    }
  }
  return sum / pairs;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

/** The records so far; a last line cut short by a crash is dropped from the file (its run is done again). */
function readResults(file: string): Map<string, ResultRecord> {
  const out = new Map<string, ResultRecord>();
  if (!existsSync(file)) return out;
  const lines = readFileSync(file, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((line, i) => {
    try {
      const r = JSON.parse(line) as ResultRecord;
      out.set(r.id, r);
    } catch {
      if (i < lines.length - 1) throw new UsageError(`${file}:${i + 1}: not a JSON object (expected one result record a line)`);
      writeFileAtomic(file, lines.slice(0, -1).map((l) => l + '\n'));
    }
  });
  return out;
}

export async function runExperiment(o: ExperimentOptions): Promise<ExperimentResult> {
  const say = o.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const k = o.kernels ?? defaultKernels();
  const outputDir = resolve(o.outputDir);
  for (const name of [...Object.keys(o.recipes), ...Object.keys(o.finetuneRecipes)]) {
    if (!NAME.test(name)) throw new UsageError(`recipe name '${name}' must be letters, digits, '_' or '.'`);
  }
  const arms = o.arms.map((a) => parseArm(a, o.recipes));
  const ftHparams = o.finetuneRecipes[o.finetune];
  if (!ftHparams) throw new UsageError(`--finetune: unknown fine-tuning recipe '${o.finetune}' (known: ${Object.keys(o.finetuneRecipes).join(', ')})`);
  for (const r of Object.keys('minutes' in o.budgets ? o.budgets.msPerUpdateByRecipe ?? {} : {})) {
    if (!(r in o.recipes)) throw new UsageError(`--ms-per-update: unknown recipe '${r}' (known: ${Object.keys(o.recipes).join(', ')})`);
  }
  for (const t of o.tasks) if (!EXPERIMENT_TASKS.includes(t)) throw new UsageError(`--tasks: unknown task '${t}' (known: ${EXPERIMENT_TASKS.join(', ')})`);
  mkdirSync(outputDir, { recursive: true });
  const resultsFile = join(outputDir, RESULTS_FILE);
  const done = readResults(resultsFile);
  const record = (r: ResultRecord): void => {
    appendFileSync(resultsFile, JSON.stringify(r) + '\n');
    done.set(r.id, r);
  };
  let newRuns = 0;
  let skippedRuns = 0;
  say(`electra experiment: ${o.scale.name} scale, arms ${arms.map((a) => a.name).join(', ')}, fine-tuning '${o.finetune}', ` +
    `pre-training seeds ${o.pretrainSeeds.join(',')}, fine-tuning seeds ${o.finetuneSeeds.join(',')}; ${k.name} backend on ` +
    `${availableParallelism()} cores (${(cpus()[0]?.model ?? 'unknown CPU').trim()}); results in ${resultsFile}`);

  const budgets = 'updates' in o.budgets ? o.budgets.updates.map((u) => `${u}updates`) : o.budgets.minutes.map((m) => `${m}min`);
  // The runs this command asks for, by id (the table shows these only, whatever else is recorded).
  const wanted = new Set<string>();
  // --report-only: the same runs looked up, nothing run.
  {
    const book = new StageBook(outputDir);
    const stage: StageRunner = async (name, key, work, stillThere) => {
      const out = await book.run(name, key, work, stillThere);
      say(`[${name}] ${out.record.summary}${out.reused ? ' (reused)' : ''}`);
      return out.record;
    };
    const dirs = corpusDirs(outputDir);
    const silent = new Writable({ write: (_c, _e, done) => done() });
    const { vocab, dataset } = o.reportOnly ? recordedDataStages(book, outputDir) : await dataStages(stage, dirs, o.scale, o.progress === false ? silent : process.stderr);
    const upstream = `${dataset.id}@${dataset.finishedAt}`;
    const base = { scale: o.scale, data: upstream };

    // Budgets as update counts per recipe (minutes: at the given or measured speed, fixed once and recorded).
    const budgetUpdates = (label: string, recipe: string): number => {
      if ('updates' in o.budgets) return Number(label.replace(/updates$/, ''));
      const minutes = Number(label.replace(/min$/, ''));
      const given = o.budgets.msPerUpdateByRecipe?.[recipe] ?? o.budgets.msPerUpdate;
      const id = stageId({ ...base, kind: 'budget', recipe, hparams: o.recipes[recipe], minutes, ms: given ?? null });
      const known = done.get(id) as BudgetRecord | undefined;
      if (known) return known.updates;
      if (o.reportOnly) return -1;
      let ms = given;
      if (ms === undefined) {
        const { [DATA_MIX_KEY]: _mix, ...recipeHparams } = o.recipes[recipe]!;
        const values = withOverrides(pretrainingHparamValues(o.scale, 'electra', vocab.data.size, 1, 1000), recipeHparams);
        const hp = resolvePretrainingHparams(values, outputDir, 'speed-test').hparams;
        ms = measureStep(hp, k, o.scale.name === 'quick' ? 2 : 16).secondsPerStep * 1000;
      }
      const updates = Math.max(1, Math.round((minutes * 60_000) / ms));
      record({ kind: 'budget', id, recipe, minutes, msPerUpdate: ms, measured: given === undefined, updates });
      return updates;
    };
    for (const label of budgets) {
      for (const recipe of new Set(arms.filter((a) => a.objective !== 'random').map((a) => a.recipe))) {
        if ('minutes' in o.budgets && !o.reportOnly) {
          const u = budgetUpdates(label, recipe);
          const b = [...done.values()].find((r): r is BudgetRecord => r.kind === 'budget' && r.recipe === recipe && `${r.minutes}min` === label && r.updates === u)!;
          say(`budget ${label}, recipe ${recipe}: ${u} updates at ${b.msPerUpdate.toFixed(1)} ms/update (${b.measured ? 'measured now' : 'given'})`);
        }
      }
    }

    // The pre-training dataset of a data mix, built once.
    const mixDataset = async (mix: string): Promise<string> => {
      const dir = join(outputDir, `mix-${mix}`);
      const corpus = join(dir, 'corpus');
      const data = join(dir, 'pretrain_tfrecords');
      await stage<{ examples: number }>(`mix-${mix}`, { dataset: upstream, mix, v: 1 }, async () => {
        rmSync(dir, { recursive: true, force: true });
        cpSync(dirs.corpus, corpus, { recursive: true });
        writeFileSync(join(corpus, `${mix.replace('_', '-')}-emails.txt`), spamTrainText());
        const built = await buildDataset(`dataset: ${mix} mix`, corpus, dirs.vocab, data, o.scale.maxSeqLength, 0, o.progress === false ? silent : process.stderr);
        const examples = built.manifest.counts.examples;
        return { summary: `${examples} pre-training examples: the demo's text and the ${mix} e-mails`, data: { examples } };
      }, () => {
        try {
          readManifest(data);
          return true;
        } catch {
          return false;
        }
      });
      return data;
    };

    const looked = new Set<string>();
    const pretrain = async (objective: Objective, recipe: string, label: string, seed: number): Promise<PretrainRecord | null> => {
      const hparams = recipeFor(objective, o.recipes[recipe]!);
      const updates = budgetUpdates(label, recipe);
      // Masked LM trains for the FLOPs of the same recipe's ELECTRA run.
      const electra = objective === 'mlm' ? await pretrain('electra', recipe, label, seed) : null;
      if (objective === 'mlm' && !electra) return null;
      const id = stageId({ ...base, kind: 'pretrain', objective, hparams, updates, seed, electra: electra?.id ?? null });
      const known = done.get(id) as PretrainRecord | undefined;
      wanted.add(id);
      if (known && existsSync(known.checkpoint)) {
        // Counted once, though masked LM looks its ELECTRA run up again.
        if (!looked.has(id) && !o.reportOnly) skippedRuns++;
        looked.add(id);
        return known;
      }
      if (o.reportOnly) return null;
      const arm = `${objective}:${recipe}`;
      const modelName = `${objective}-${recipe}-${label}-s${seed}`;
      say(`[pretrain ${arm} ${label} seed ${seed}] ${electra ? `${(electra.stepFlops * electra.updates / 1e12).toFixed(3)} TFLOP (the ELECTRA run's)` : `${updates} updates`}`);
      const { [DATA_MIX_KEY]: mix, ...trainHparams } = hparams;
      if (mix !== undefined) trainHparams['pretrain_tfrecords'] = await mixDataset(mix as string);
      const s = await demoPretrain({
        outputDir, scale: o.scale, objective, modelName, vocabSize: vocab.data.size, seed, budgetSeconds: 0, heldoutData: dirs.heldoutData, upstream,
        hparams: trainHparams, kernels: k, log: () => {}, note: say, progressBar: o.progress !== false,
        ...(electra ? { flopBudget: electra.stepFlops * electra.updates, noTimeLimit: true } : { fixedSteps: updates }),
      });
      const last = s.heldout[s.heldout.length - 1]!;
      const r: PretrainRecord = {
        kind: 'pretrain', id, arm, budget: label, seed, updates: s.numTrainSteps, stepFlops: s.stepFlops, trainSeconds: s.trainSeconds,
        secondsPerStep: s.secondsPerStep, checkpoint: s.finalCheckpoint, clsCosine: clsCosine(s.finalCheckpoint, objective, k, o.scale.maxSeqLength),
        heldout: { disc_auc: last.disc_auc, disc_accuracy: last.disc_accuracy, disc_all_real_accuracy: last.disc_all_real_accuracy, masked_lm_accuracy: last.masked_lm_accuracy },
      };
      say(`  ${s.numTrainSteps} updates in ${s.trainSeconds.toFixed(0)} s (${(s.secondsPerStep * 1000).toFixed(1)} ms/update measured); held-out ` +
        (last.disc_auc !== null ? `AUC ${last.disc_auc.toFixed(3)}, disc acc ${last.disc_accuracy!.toFixed(3)} (all-real ${last.disc_all_real_accuracy!.toFixed(3)}), ` : '') +
        `masked-LM acc ${last.masked_lm_accuracy.toFixed(3)}; [CLS] cosine ${r.clsCosine.toFixed(3)}`);
      record(r);
      looked.add(id);
      newRuns++;
      return r;
    };

    const finetune = async (arm: Arm, label: string, pretrained: PretrainRecord | null, task: FinetuneTaskName, seed: number): Promise<void> => {
      const trainExamples = task === 'spam_assassin' ? Math.min(SPAM_TRAIN_EXAMPLES, o.scale.genreTrain) : undefined;
      const id = stageId({ ...base, kind: 'finetune', vocab: vocab.id, pretrained: pretrained?.id ?? null, finetune: ftHparams, task, seed, trainExamples });
      wanted.add(id);
      if (done.has(id) || o.reportOnly) {
        if (!o.reportOnly) skippedRuns++;
        return;
      }
      const modelName = `ft-${pretrained ? `${arm.objective}-${arm.recipe}-${label}-s${pretrained.seed}` : 'random'}-${o.finetune}-${task}-s${seed}`;
      // What an interrupted run left there may be for other settings: start afresh.
      rmSync(join(outputDir, 'models', modelName), { recursive: true, force: true });
      const init: Init = pretrained
        // The masked-LM run's encoder is its generator.
        ? { kind: arm.objective as Objective, modelName, checkpoint: join(pretrained.checkpoint, arm.objective === 'mlm' ? 'generator' : 'discriminator') }
        : { kind: 'random', modelName };
      const s = await demoFinetune(outputDir, o.scale, task, init, dirs.vocab, vocab.data.size, seed, k, () => {}, o.progress === false ? silent : process.stderr, {
        hparams: ftHparams, ...(trainExamples !== undefined ? { trainExamples } : {}),
      });
      const accuracy = s.metrics['accuracy']!;
      say(`[finetune ${arm.name}${pretrained ? ` ${label}` : ''} ${task} seed ${seed}] accuracy ${accuracy.toFixed(2)} (${s.trainSteps} updates, ${s.seconds.toFixed(0)} s)`);
      record({ kind: 'finetune', id, arm: arm.name, budget: pretrained ? label : '-', pretrainSeed: pretrained?.seed ?? null, finetune: o.finetune, task, seed, accuracy, seconds: s.seconds });
      newRuns++;
    };

    // Random initialisation first: every budget's row compares against it.
    for (const arm of arms.filter((a) => a.objective === 'random')) {
      for (const task of o.tasks) for (const seed of o.finetuneSeeds) await finetune(arm, '-', null, task, seed);
    }
    for (const label of budgets) {
      for (const pseed of o.pretrainSeeds) {
        for (const arm of arms.filter((a) => a.objective !== 'random')) {
          const p = await pretrain(arm.objective as Objective, arm.recipe, label, pseed);
          if (!p) continue;
          for (const task of o.tasks) for (const seed of o.finetuneSeeds) await finetune(arm, label, p, task, seed);
        }
      }
    }
  }

  // Cells: this command's runs (arms, budgets, seeds, fine-tuning recipe) from everything recorded.
  const runs = [...done.values()].filter((r): r is FinetuneRecord => r.kind === 'finetune' && wanted.has(r.id));
  const cells: Cell[] = [];
  for (const label of budgets) {
    for (const task of o.tasks) {
      for (const arm of arms) {
        const scores = runs.filter((r) => r.task === task && r.arm === arm.name && (arm.objective === 'random' || r.budget === label)).map((r) => r.accuracy);
        if (scores.length === 0) continue;
        cells.push({ budget: label, task, arm: arm.name, finetune: o.finetune, n: scores.length, median: median(scores), min: Math.min(...scores), max: Math.max(...scores) });
      }
    }
  }
  // This command's pre-training runs (masked LM's ELECTRA counterparts included).
  const pretrainRows = [...done.values()].filter((r): r is PretrainRecord => r.kind === 'pretrain' && wanted.has(r.id)).map((p) => {
    if (p.clsCosine !== undefined || !existsSync(p.checkpoint)) return p;
    // Records written before the [CLS] measure existed get it now (a later line with the same id wins).
    const r = { ...p, clsCosine: clsCosine(p.checkpoint, p.arm.split(':')[0] as Objective, k, o.scale.maxSeqLength) };
    record(r);
    return r;
  });
  const table = formatTables(cells, arms.map((a) => a.name), pretrainRows);
  say(`\n${table}\n`);
  return { resultsFile, newRuns, skippedRuns, cells, table };
}

/** The data stages' records of an earlier run (--report-only runs nothing). */
function recordedDataStages(book: StageBook, outputDir: string): { vocab: StageRecord<{ size: number }>; dataset: StageRecord<DatasetSummary> } {
  const read = <T>(stage: string): StageRecord<T> => {
    if (!existsSync(book.file(stage))) throw new UsageError(`${outputDir} has no finished '${stage}' stage: nothing recorded to report`);
    return JSON.parse(readFileSync(book.file(stage), 'utf8')) as StageRecord<T>;
  };
  return { vocab: read('vocab'), dataset: read('dataset') };
}

/** Accuracy (median [min-max] over the runs) per budget and task, one column per arm; then the pre-training runs. */
export function formatTables(cells: readonly Cell[], arms: readonly string[], pretrained: readonly PretrainRecord[]): string {
  const rows: string[][] = [['budget', 'task', ...arms]];
  for (const key of [...new Set(cells.map((c) => `${c.budget}\t${c.task}`))]) {
    const [budget, task] = key.split('\t') as [string, string];
    rows.push([budget, task, ...arms.map((a) => {
      const c = cells.find((x) => x.budget === budget && x.task === task && x.arm === a);
      return c ? `${c.median.toFixed(2)} [${c.min.toFixed(1)}-${c.max.toFixed(1)}] n=${c.n}` : '-';
    })]);
  }
  const fmt = (table: string[][]): string => {
    const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
    return table.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
  };
  const pre: string[][] = [['pre-training', 'budget', 'seed', 'updates', 'TFLOP', 's', 'held-out AUC', 'disc acc (all-real)', 'MLM acc', '[CLS] cos']];
  for (const p of pretrained) {
    const h = p.heldout;
    pre.push([p.arm, p.budget, String(p.seed), String(p.updates), (p.stepFlops * p.updates / 1e12).toFixed(3), p.trainSeconds.toFixed(0),
      h.disc_auc === null ? '-' : h.disc_auc.toFixed(3), h.disc_accuracy === null ? '-' : `${h.disc_accuracy.toFixed(3)} (${h.disc_all_real_accuracy!.toFixed(3)})`,
      h.masked_lm_accuracy.toFixed(3), p.clsCosine === undefined ? '-' : p.clsCosine.toFixed(3)]);
  }
  return `dev accuracy (%): median [min-max] over fine-tuning (and pre-training) seeds\n${fmt(rows)}\n\n${fmt(pre)}`;
}

const USAGE = `usage: npm run experiment -- [--out DIR] (--updates N,N | --minutes M,M [--ms-per-update X[,RECIPE=X]...])
  [--arms random,electra:demo,mlm:demo] [--recipe NAME=JSON]... [--finetune NAME] [--finetune-recipe NAME=JSON]...
  [--seeds 1] [--finetune-seeds 1,2,3] [--tasks ${EXPERIMENT_TASKS.join(',')}] [--quick] [--report-only]
recipes: ${Object.entries(RECIPES).map(([n, h]) => `${n} ${JSON.stringify(h)}`).join('; ')}
fine-tuning recipes: ${Object.entries(FINETUNE_RECIPES).map(([n, h]) => `${n} ${JSON.stringify(h)}`).join('; ')}`;

function numbers(flag: string, text: string, integer: boolean): number[] {
  const xs = text.split(',').map((s) => Number(s.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isFinite(x) || x <= 0 || (integer && !Number.isInteger(x)))) {
    throw new UsageError(`--${flag} must be a comma-separated list of positive ${integer ? 'integers' : 'numbers'}, got '${text}'`);
  }
  return xs;
}

function namedHparams(flag: string, specs: string[], into: Record<string, Hparams>): Record<string, Hparams> {
  const out = { ...into };
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    let value: unknown;
    try {
      value = eq > 0 ? JSON.parse(spec.slice(eq + 1)) : undefined;
    } catch {
      value = undefined;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`--${flag} must be NAME='{"key": value, ...}', got '${spec}'`);
    out[spec.slice(0, eq)] = value as Hparams;
  }
  return out;
}

/**
 * --ms-per-update: the demo recipe's update time in ms, then RECIPE=MS for recipes that run at
 * another speed (`npm run bench -- demo-step` measures fp32 against bf16), e.g. '37.2,bf16=26.8'.
 */
function updateTimes(text: string): { msPerUpdate?: number; msPerUpdateByRecipe?: Record<string, number> } {
  const out: { msPerUpdate?: number; msPerUpdateByRecipe?: Record<string, number> } = {};
  for (const part of text.split(',').map((s) => s.trim())) {
    const eq = part.indexOf('=');
    const ms = Number(eq < 0 ? part : part.slice(eq + 1));
    if (!(Number.isFinite(ms) && ms > 0) || (eq < 0 && out.msPerUpdate !== undefined)) {
      throw new UsageError(`--ms-per-update must be a positive number, then RECIPE=NUMBER for any recipe of another speed, got '${text}'`);
    }
    if (eq < 0) out.msPerUpdate = ms;
    else (out.msPerUpdateByRecipe ??= {})[part.slice(0, eq)] = ms;
  }
  return out;
}

/** The command line as experiment options. */
export function experimentOptions(argv: string[]): ExperimentOptions {
  const { values } = parseArgs({
    args: argv, strict: true, options: {
      out: { type: 'string', default: 'electra-experiment' },
      updates: { type: 'string' }, minutes: { type: 'string' }, 'ms-per-update': { type: 'string' },
      arms: { type: 'string', default: 'random,electra:demo,mlm:demo' },
      recipe: { type: 'string', multiple: true, default: [] }, 'finetune-recipe': { type: 'string', multiple: true, default: [] },
      finetune: { type: 'string', default: 'demo' },
      seeds: { type: 'string', default: '1' }, 'finetune-seeds': { type: 'string', default: '1,2,3' },
      tasks: { type: 'string', default: EXPERIMENT_TASKS.join(',') },
      quick: { type: 'boolean', default: false }, 'report-only': { type: 'boolean', default: false },
    },
  });
  if ((values.updates === undefined) === (values.minutes === undefined)) throw new UsageError('give one of --updates and --minutes');
  const budgets = values.updates !== undefined
    ? { updates: numbers('updates', values.updates, true) }
    : { minutes: numbers('minutes', values.minutes!, false), ...(values['ms-per-update'] ? updateTimes(values['ms-per-update']) : {}) };
  return {
    outputDir: values.out, scale: values.quick ? QUICK_SCALE : DEMO_SCALE, budgets,
    arms: values.arms.split(',').map((s) => s.trim()), recipes: namedHparams('recipe', values.recipe, RECIPES),
    finetune: values.finetune, finetuneRecipes: namedHparams('finetune-recipe', values['finetune-recipe'], FINETUNE_RECIPES),
    pretrainSeeds: numbers('seeds', values.seeds, true), finetuneSeeds: numbers('finetune-seeds', values['finetune-seeds'], true),
    tasks: values.tasks.split(',').map((s) => s.trim()) as FinetuneTaskName[], reportOnly: values['report-only'],
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const r = await runExperiment(experimentOptions(process.argv.slice(2)));
    console.log(JSON.stringify({ experiment: 'recipe', results: r.resultsFile, new_runs: r.newRuns, skipped_runs: r.skippedRuns, cells: r.cells }));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n${USAGE}`);
    process.exit(2);
  }
}
