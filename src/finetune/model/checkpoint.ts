// Model folders for fine-tuning: the encoder configuration an hparams set asks for, loading a
// pre-trained or fine-tuned HuggingFace folder into a FinetuningModel, and saving fine-tuned
// models as HF folders.
//
// Saved layout: a single task whose head HF also has is written as that HF class with HF's
// tensor names (ElectraForSequenceClassification for 'hf'-style sentence heads,
// ElectraForTokenClassification for tagging heads of either style, ElectraForQuestionAnswering
// for 'hf'-style QA heads), so transformers loads it as is. Otherwise (the reference's
// classification and QA heads, several tasks) the folder is an ElectraModel with the head
// tensors under "task_specific.<task>." (the reference's variable scope), e.g.
// task_specific.squad.{start_logits,qa_hidden,qa_logits,answer_class_hidden,answer_class}.*;
// transformers loads its encoder and ignores the heads. Either way config.json carries
// "electra_ts_finetuning": the tasks (kinds, head styles, labels, each one's max_seq_length and,
// for tasks configured by a spec, its reader settings) and the settings inference needs.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import type { ElectraArchitecture, ElectraConfig as HfConfig } from '../../io/hf-config.js';
import { assertTensorsMatch, electraBaseSpec, electraHeadSpec, type TensorSpec } from '../../io/electra-names.js';
import { readHfFolder, writeHfFolder, type LoadedModelFolder } from '../../io/hf-folder.js';
import { shapeString, type Tensor, type TensorMap } from '../../io/tensor.js';
import {
  discriminatorConfig, hfConfigFromModel, modelConfigFromHf, resolvePretrainingConfig, type ElectraConfig, type ModelHparamOverrides,
} from '../../model/config.js';
import { parseTaskSpec, type FinetuningHparams } from '../hparams.js';
import { familyOf, FAMILIES, HEAD_KINDS, type HeadKind } from '../families.js';
import type { FinetuningModel, HeadSpec } from './finetuning-model.js';
import { headPrefix, type SavedTask as GenericSavedTask } from './head.js';
import type { ElectraQaOptions } from '../qa/head.js';

export const FINETUNING_CONFIG_KEY = 'electra_ts_finetuning';

/** A task as a model folder records it. */
export type SavedTask = GenericSavedTask<HeadKind> & {
  /** Its own max_seq_length (task_hparams); absent in older folders, whose tasks take the folder's. */
  maxSeqLength?: number;
  /**
   * Table and tagging tasks configured by a task spec: that spec as training read its files
   * (defaults filled in, the training file's header decision, no file paths), the default reader
   * settings of `electra predict --input`. Absent in older folders and for tasks of fixed formats.
   */
  reader?: Record<string, unknown>;
};

/** What inference needs besides the weights. */
export interface SavedFinetuning {
  tasks: SavedTask[];
  max_seq_length: number;
  /** QA featurisation and post-processing. */
  max_query_length: number;
  doc_stride: number;
  n_best_size: number;
  max_answer_length: number;
  qa_na_threshold: number;
  /** The reference QA head's options. */
  qa: ElectraQaOptions;
}

const MODEL_OVERRIDE_KEYS = [
  'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'hidden_dropout_prob',
  'attention_probs_dropout_prob', 'max_position_embeddings', 'type_vocab_size', 'initializer_range', 'vocab_size', 'layer_norm_eps',
] as const;

/** The encoder the reference builds for these hparams (training_utils.get_bert_config, debug shrink included). */
export function modelConfigFromHparams(hp: FinetuningHparams): ElectraConfig {
  const overrides: ModelHparamOverrides = {};
  for (const [key, value] of Object.entries(hp.model_hparam_overrides)) {
    if (!(MODEL_OVERRIDE_KEYS as readonly string[]).includes(key)) {
      throw new UsageError(`model_hparam_overrides: unknown key '${key}' (known: ${MODEL_OVERRIDE_KEYS.join(', ')})`);
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new UsageError(`model_hparam_overrides.${key} must be a number, got ${JSON.stringify(value)}`);
    (overrides as Record<string, number>)[key] = value;
  }
  const pre = resolvePretrainingConfig({
    model_size: hp.model_size, debug: hp.debug, vocab_size: hp.vocab_size, model_hparam_overrides: overrides,
    ...(hp.embedding_size === null ? {} : { embedding_size: hp.embedding_size }),
  });
  const cfg = discriminatorConfig(pre);
  if (hp.max_seq_length > cfg.max_position_embeddings) {
    throw new UsageError(`max_seq_length ${hp.max_seq_length} > max_position_embeddings ${cfg.max_position_embeddings}`);
  }
  return cfg;
}

const SHAPE_FIELDS = [
  'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'embedding_size', 'vocab_size',
  'max_position_embeddings', 'type_vocab_size',
] as const;

/**
 * Throws unless the folder's encoder has the shape the hparams ask for, saying which hparams
 * would describe the folder.
 */
export function checkModelSize(expected: ElectraConfig, found: HfConfig, dir: string, hp: FinetuningHparams): void {
  const diffs = SHAPE_FIELDS.filter((f) => expected[f] !== found[f]);
  if (diffs.length === 0) return;
  const what = diffs.map((f) => `${f} ${found[f]} (model_size '${hp.model_size}'${hp.debug ? ' with debug' : ''} means ${expected[f]})`).join(', ');
  const overrides: Record<string, number> = {};
  for (const f of ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'vocab_size', 'max_position_embeddings', 'type_vocab_size'] as const) {
    if (expected[f] !== found[f]) overrides[f] = found[f];
  }
  const hints: string[] = [];
  if (Object.keys(overrides).length > 0) hints.push(`"model_hparam_overrides": ${JSON.stringify(overrides)}`);
  if (expected.embedding_size !== found.embedding_size) hints.push(`"embedding_size": ${found.embedding_size}`);
  throw new UsageError(`${dir}: the model does not match the hparams: ${what}. Set model_size to the model's size, or ${hints.join(' and ')}`);
}

// ---------------------------------------------------------------------------------------------
// Reading

const HF_HEAD_CLASSES = new Set<ElectraArchitecture>(FAMILIES.flatMap((f) => f.hfClasses));

/** The HF class a single saved head is written as, or null when HF has no such head. */
export function hfArchitectureFor(task: SavedTask): ElectraArchitecture | null {
  return familyOf(task.kind).hfArchitecture(task);
}

/**
 * Whether dir is a fine-tuned model folder: its config.json names an ElectraFor* task class or
 * carries electra-ts fine-tuning information (read cheaply, without the weights; an unreadable
 * config is left for the loaders to report).
 */
export function isFinetunedFolder(dir: string): boolean {
  const file = join(dir, 'config.json');
  if (!existsSync(file)) return false;
  try {
    const config = JSON.parse(readFileSync(file, 'utf8')) as { architectures?: unknown; [FINETUNING_CONFIG_KEY]?: unknown };
    const arch = Array.isArray(config.architectures) ? config.architectures[0] : undefined;
    return config[FINETUNING_CONFIG_KEY] !== undefined || HF_HEAD_CLASSES.has(arch as ElectraArchitecture);
  } catch {
    return false;
  }
}

export interface FinetuningFolder {
  dir: string;
  folder: LoadedModelFolder;
  /** The encoder's configuration. */
  modelConfig: ElectraConfig;
  /** Tasks with heads in the folder (none for a pre-trained model). */
  tasks: SavedTask[];
  saved: SavedFinetuning | null;
  /** Tensors under the FinetuningModel's names: "electra.*" and "task_specific.<task>.*". */
  tensors: TensorMap;
}

/** The task an HF fine-tuned folder without electra-ts information holds, from its class and config. */
function taskOfHfFolder(arch: ElectraArchitecture, config: HfConfig, file: string): SavedTask | null {
  for (const family of FAMILIES) {
    const task = family.taskOfHfFolder(arch, config, file);
    if (task) return task;
  }
  return null;
}

function parseSaved(value: unknown, file: string): SavedFinetuning {
  const bad = (what: string): never => {
    throw new UsageError(`${file}: "${FINETUNING_CONFIG_KEY}" ${what}`);
  };
  if (typeof value !== 'object' || value === null) return bad('must be an object');
  const v = value as Partial<SavedFinetuning>;
  if (!Array.isArray(v.tasks) || v.tasks.length === 0) bad('must list its tasks');
  for (const t of v.tasks!) {
    if (typeof t.name !== 'string' || !(HEAD_KINDS as readonly string[]).includes(t.kind) || !['electra', 'hf'].includes(t.style)) {
      bad(`has a malformed task ${JSON.stringify(t)}`);
    }
    if (familyOf(t.kind).needsLabels(t.kind) && !(Array.isArray(t.labels) && t.labels.length > 0)) bad(`task ${t.name} has no labels`);
    if (t.summaryType !== undefined && !(t.summaryType === 'mean' && (t.kind === 'classification' || t.kind === 'regression') && t.style === 'electra')) {
      bad(`task ${t.name} has summaryType ${JSON.stringify(t.summaryType)}; only 'mean' on a classification or regression head of style 'electra' is written`);
    }
  }
  for (const key of ['max_seq_length', 'max_query_length', 'doc_stride', 'n_best_size', 'max_answer_length', 'qa_na_threshold'] as const) {
    if (typeof v[key] !== 'number') bad(`lacks '${key}'`);
  }
  for (const t of v.tasks!) {
    if (t.maxSeqLength !== undefined && !(Number.isSafeInteger(t.maxSeqLength) && t.maxSeqLength >= 3 && t.maxSeqLength <= v.max_seq_length!)) {
      bad(`task ${t.name} has maxSeqLength ${JSON.stringify(t.maxSeqLength)}; expected an integer from 3 to max_seq_length ${v.max_seq_length}`);
    }
    if (t.reader === undefined) continue;
    if (t.kind === 'qa' || t.kind === 'multiple_choice') bad(`task ${t.name} (${t.kind}) has reader settings; only table and tagging tasks have them`);
    else parseTaskSpec(`${file}: "${FINETUNING_CONFIG_KEY}" task ${t.name}'s reader`, t.reader, t.kind);
  }
  if (typeof v.qa !== 'object' || v.qa === null) bad("lacks 'qa'");
  return v as SavedFinetuning;
}

/** HF head tensor names <-> the model's names for a single task. */
function headName(task: string, hfName: string): string {
  return `${headPrefix(task)}.${hfName}`;
}

/**
 * Reads a model folder for fine-tuning or inference: a pre-trained ELECTRA (ElectraForPreTraining,
 * ElectraModel, ...), an HF fine-tuned ElectraFor* folder, or a folder electra-ts fine-tuned.
 * The encoder's tensors are checked against its config.
 */
export function readFinetuningFolder(dir: string): FinetuningFolder {
  const folder = readHfFolder(dir, { validate: false });
  const file = `${dir}/config.json`;
  const config = folder.config;
  const modelConfig = modelConfigFromHf(config, file);
  const weights = `${dir}/${folder.weightFiles[0]}`;
  const base = electraBaseSpec(config);
  const baseNames = new Set(base.map((s) => s.name));
  const baseTensors: TensorMap = new Map([...folder.tensors].filter(([name]) => baseNames.has(name)));
  assertTensorsMatch(baseTensors, base, weights, `the ELECTRA encoder configured in config.json (hidden_size ${config.hidden_size}, ${config.num_hidden_layers} layers)`);

  const raw = config.extra[FINETUNING_CONFIG_KEY];
  const saved = raw === undefined ? null : parseSaved(raw, file);
  const arch = folder.architecture;
  const tensors: TensorMap = new Map(baseTensors);
  let tasks: SavedTask[];
  const rename = (task: string): void => {
    const spec = electraHeadSpec(config, arch);
    const head: TensorMap = new Map(spec.filter((s) => folder.tensors.has(s.name)).map((s) => [s.name, folder.tensors.get(s.name)!]));
    assertTensorsMatch(head, spec, weights, `the ${arch} head in config.json`);
    for (const [name, t] of head) tensors.set(headName(task, name), t);
  };
  if (saved) {
    tasks = saved.tasks;
    if (HF_HEAD_CLASSES.has(arch)) {
      if (tasks.length !== 1) throw new UsageError(`${file}: an ${arch} folder holds one task, "${FINETUNING_CONFIG_KEY}" lists ${tasks.length}`);
      rename(tasks[0]!.name);
    } else {
      for (const [name, t] of folder.tensors) if (name.startsWith('task_specific.')) tensors.set(name, t);
    }
  } else {
    const task = taskOfHfFolder(arch, config, file);
    tasks = task ? [task] : [];
    if (task) rename(task.name);
  }
  return { dir, folder, modelConfig, tasks, saved, tensors };
}

export interface LoadReport {
  /** Heads that were initialised afresh (no tensors for them in the folder). */
  freshHeads: string[];
  loadedHeads: string[];
}

/**
 * Copies the encoder (all of it required) and the heads found in the folder (by the model's
 * names; a folder of one HF head maps onto the task `hfTask`) into the model.
 */
export function loadWeights(model: FinetuningModel, source: FinetuningFolder, hfTask?: string): LoadReport {
  let tensors = source.tensors;
  // An HF fine-tuned folder's head belongs to whichever single task continues from it.
  const only = source.tasks.length === 1 && source.saved === null ? source.tasks[0]! : null;
  if (only && hfTask && hfTask !== only.name) {
    tensors = new Map([...tensors].map(([name, t]) => [name.replace(`${headPrefix(only.name)}.`, `${headPrefix(hfTask)}.`), t]));
  }
  const weights = `${source.dir}/${source.folder.weightFiles[0]}`;
  const report: LoadReport = { freshHeads: [], loadedHeads: [] };
  for (const { spec } of model.heads.values()) {
    const names = model.headParameterNames(spec.task);
    const present = names.filter((n) => tensors.has(n));
    if (present.length === 0) {
      report.freshHeads.push(spec.task);
      continue;
    }
    if (present.length !== names.length) {
      const missing = names.filter((n) => !tensors.has(n));
      throw new UsageError(`${weights}: the ${spec.task} head is incomplete: ${missing.join(', ')} missing (a head of another kind or style?)`);
    }
    report.loadedHeads.push(spec.task);
  }
  for (const ref of model.params.entries) {
    const t = tensors.get(ref.name);
    const isHead = ref.name.startsWith('task_specific.');
    if (!t) {
      if (isHead) continue;
      throw new UsageError(`${weights}: tensor '${ref.name}' ${shapeString(ref.shape)} is missing`);
    }
    if (t.shape.length !== ref.shape.length || t.shape.some((d, i) => d !== ref.shape[i])) {
      throw new UsageError(`${weights}: tensor '${ref.name}' is ${shapeString(t.shape)}, the model needs ${shapeString(ref.shape)}` +
        (isHead ? ' (a head for another number of labels? fine-tune a fresh head from the encoder instead)' : ''));
    }
    ref.value.set(t.data);
  }
  return report;
}

// ---------------------------------------------------------------------------------------------
// Writing

export interface SaveOptions {
  vocab: string[];
  doLowerCase: boolean;
  saved: SavedFinetuning;
}

/** The encoder's HF config with the task information. */
function hfConfigFor(model: FinetuningModel, arch: ElectraArchitecture, task: SavedTask | null, saved: SavedFinetuning): HfConfig {
  const config = hfConfigFromModel(model.config, arch, { extra: { [FINETUNING_CONFIG_KEY]: saved } });
  if (!task) return config;
  const { labels, problemType } = familyOf(task.kind).hfConfig(task);
  if (labels) {
    config.id2label = Object.fromEntries(labels.map((l, i) => [String(i), l]));
    config.label2id = Object.fromEntries(labels.map((l, i) => [l, i]));
  }
  if (problemType) config.extra['problem_type'] = problemType;
  return config;
}

/** Saves the model's weights as an HF folder (see the layout at the top of this file), all files or none. */
export function saveFinetunedModel(dir: string, model: FinetuningModel, opts: SaveOptions): string[] {
  const { saved } = opts;
  const single = saved.tasks.length === 1 ? saved.tasks[0]! : null;
  const arch = single ? hfArchitectureFor(single) ?? 'ElectraModel' : 'ElectraModel';
  const config = hfConfigFor(model, arch, arch === 'ElectraModel' ? null : single, saved);
  const tensors: TensorMap = new Map();
  const strip = arch === 'ElectraModel' ? null : `${headPrefix(single!.name)}.`;
  for (const ref of model.params.entries) {
    const name = strip && ref.name.startsWith(strip) ? ref.name.slice(strip.length) : ref.name;
    const t: Tensor = { shape: [...ref.shape], data: Float32Array.from(ref.value) };
    tensors.set(name, t);
  }
  const spec: TensorSpec[] = [...electraBaseSpec(config), ...(arch === 'ElectraModel'
    ? model.params.entries.filter((e) => e.name.startsWith('task_specific.')).map((e) => ({ name: e.name, shape: [...e.shape] }))
    : electraHeadSpec(config, arch))];
  assertTensorsMatch(tensors, spec, `${dir}/model.safetensors`, `the fine-tuned ${arch}`);
  return writeHfFolder(dir, {
    config, tensors, vocab: opts.vocab, tokenizer: { do_lower_case: opts.doLowerCase, extra: {} },
  }, { overwrite: true, validate: false });
}

/** Head specs of saved tasks. */
export function headSpecsOf(tasks: readonly SavedTask[]): HeadSpec[] {
  return tasks.map((t) => familyOf(t.kind).headSpec(t));
}
