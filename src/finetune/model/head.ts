// What every task head shares: the inputs it reads from the encoder pass, the sizes it is
// allocated for, parameter naming and initialisation, and the contract the fine-tuning model
// drives it by (ModelHead, created by its family's HeadFamily). The heads themselves live with
// their task family (classification/, tagging/, qa/, multiple-choice/), each with an explicit
// forward and backward pass over the rows of a (possibly multi-task) batch that belong to it.
//
// Losses are per example; the model's loss is their sum over the batch, as in the reference
// (run_finetuning.py sums the per-example losses). Backward passes accumulate (+=) into the
// gradient of the hidden states, so heads of several tasks can share one batch.
import { jsKernels, type Kernels } from '../../kernels/index.js';
import type { ElectraArchitecture, ElectraConfig as HfConfig } from '../../io/hf-config.js';
import type { DropoutSites } from '../../nn/dropout.js';
import { type Init, type ParameterSet, Scope } from '../../nn/params.js';
import { allocFloats, type DType } from '../../nn/tensor.js';

/** 'electra': the reference's heads; 'hf': transformers' ElectraFor* heads. */
export type HeadStyle = 'electra' | 'hf';

/**
 * How a sentence head reads the encoder (the hparam `summary_type`, named after HF's config key):
 * 'first' the [CLS] state (the reference and ElectraForSequenceClassification); 'mean' the mean of
 * the real tokens' states (input_mask 1), which needs no [CLS] state trained in pre-training.
 */
export type SummaryType = 'first' | 'mean';

/** What a head reads from the encoder pass over a batch. */
export interface HeadInput {
  /** Last hidden states [batch * seqLen, hidden]. */
  hidden: Float32Array;
  seqLen: number;
  /** The batch rows that hold this head's examples, in the order of its targets and outputs. */
  rows: readonly number[];
  /** [batch, seqLen] of the whole batch. */
  inputMask: Int32Array;
  segmentIds: Int32Array;
  /** Dropout on. */
  training: boolean;
  stepSeed: number;
  /** Keep what backward needs and compute the loss gradients. */
  wantGrad: boolean;
}

/** Sizes every head is allocated for. */
export interface HeadDims {
  hidden: number;
  /** Batch rows of this task in one batch (examples times rows per example). */
  maxRows: number;
  maxSeqLen: number;
  initializerRange: number;
  /** Dropout of HF heads: classifier_dropout, else hidden_dropout_prob. */
  hfDropout: number;
  dtype: DType;
}

/** The parameter-name prefix of a task's head: the reference's variable scope task_specific/<task>. */
export function headPrefix(task: string): string {
  return `task_specific.${task}`;
}

/** tf.layers.dense's default kernel initializer (Glorot uniform) for the reference's heads; HF's normal(0, initializer_range) otherwise. */
export function weightInit(style: HeadStyle, dims: HeadDims): Init {
  return style === 'electra' ? { kind: 'glorotUniform' } : { kind: 'truncatedNormal', std: dims.initializerRange };
}

export function headScope(task: string): Scope {
  const name = headPrefix(task);
  return new Scope(name, name, ['discriminator']);
}

export function checkRows(what: string, n: number, max: number, seqLen: number, maxSeqLen: number): void {
  if (n > max) throw new Error(`${what}: ${n} examples in a batch, more than the ${max} allocated`);
  if (seqLen > maxSeqLen) throw new Error(`${what}: sequence length ${seqLen} > the ${maxSeqLen} allocated`);
}

/** Number of real tokens of a batch row. */
export function realLength(inputMask: Int32Array, row: number, seqLen: number): number {
  let n = 0;
  for (let t = 0; t < seqLen; t++) n += inputMask[row * seqLen + t] ? 1 : 0;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Losses

const labelScratch = new Int32Array(1);

/**
 * -log softmax(x[off : off + n])[label], by the kernels' softmaxCrossEntropy. When d is given,
 * d[off + i] receives scale * (softmax_i - [i == label]).
 */
export function softmaxCrossEntropyRow(
  k: Kernels, x: Float32Array, off: number, n: number, label: number, d: Float32Array | null, scale: number,
): number {
  labelScratch[0] = label;
  return k.softmaxCrossEntropy(x.subarray(off, off + n), labelScratch, null, d ? d.subarray(off, off + n) : null, 1, n, scale);
}

function logSumExp(x: ArrayLike<number>, off: number, n: number): number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, x[off + i]!);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(x[off + i]! - max);
  return max + Math.log(sum);
}

/** log softmax of x[off : off + n] as a new float64 array. */
export function logSoftmaxRow(x: ArrayLike<number>, off: number, n: number): number[] {
  const lse = logSumExp(x, off, n);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = x[off + i]! - lse;
  return out;
}

/** y[off : off + n] = softmax(x[off : off + n]). */
export function softmaxRowInto(x: Float32Array, y: Float32Array, off: number, n: number): void {
  const lse = logSumExp(x, off, n);
  for (let i = 0; i < n; i++) y[off + i] = Math.exp(x[off + i]! - lse);
}

/** Sigmoid cross-entropy of one logit with target z (tf.nn.sigmoid_cross_entropy_with_logits): the JS kernel's, in float64. */
export function sigmoidCrossEntropy(x: number, z: number): number {
  const xz = allocFloats(2, 'float64');
  xz[0] = x;
  xz[1] = z;
  return jsKernels.sigmoidCrossEntropy(xz.subarray(0, 1), xz.subarray(1, 2), null, null, 1, 1);
}

// ---------------------------------------------------------------------------------------------
// The contract between the fine-tuning model and a task family's heads

/** What the model reports for every example: its family's kind and its loss (0 without targets). */
export interface HeadOutputBase {
  readonly kind: string;
  loss: number;
}

/** The head a task gets: its kind (the family's), style, and number of labels (or choices). */
export interface HeadSpec<Kind extends string = string> {
  task: string;
  kind: Kind;
  style: HeadStyle;
  /** Classes (classification, tagging); 1 for regression; 0 for qa; choices for multiple choice. */
  numLabels: number;
  /** Classification and regression: what the head reads (absent: 'first'). */
  summaryType?: SummaryType;
}

/** A head as the fine-tuning model drives it. */
export interface ModelHead<Target, Output extends HeadOutputBase> {
  readonly task: string;
  /** Batch rows per example (multiple choice: one per choice). */
  readonly rowsPerExample: number;
  /**
   * Forward over input.rows (rowsPerExample consecutive rows per example): one output per
   * example. A null target (inference) leaves the loss 0; input.wantGrad needs every target.
   */
  run(input: HeadInput, targets: readonly (Target | null)[]): Output[];
  /** Adds the gradient of the summed loss w.r.t. the hidden states into dHidden. */
  backward(dHidden: Float32Array): void;
}

/** The targets when every one is known (training, evaluation), else null (inference). */
export function knownTargets<T>(targets: readonly (T | null)[]): readonly T[] | null {
  const known: T[] = [];
  for (const t of targets) {
    if (t === null) return null;
    known.push(t);
  }
  return known;
}

/** What a family's head is built from. */
export interface HeadEnv<Options> {
  k: Kernels;
  params: ParameterSet;
  dims: HeadDims;
  sites: DropoutSites;
  /** The model's options (family settings such as the reference QA head's). */
  options: Options;
}

/** A task as a model folder records it (config.json's "electra_ts_finetuning".tasks). */
export interface SavedTask<Kind extends string = string> {
  name: string;
  kind: Kind;
  style: HeadStyle;
  /** Class names by id (classification, tagging); null for regression, QA and multiple choice. */
  labels: string[] | null;
  /** Regression: targets were scaled from [min, max] to [0, 1]. */
  targetRange?: [number, number];
  /** Tagging: true for one label per word (accuracy), false for BIOES chunks. */
  tokenLevel?: boolean;
  /** Multiple choice: the choices of every example. */
  numChoices?: number;
  /** Classification and regression: 'mean' when the head reads the token mean (absent: the [CLS] state). */
  summaryType?: SummaryType;
}

/** config.json's labels and problem type of a folder holding one head as its HF class. */
export interface HfHeadConfig {
  labels: string[] | null;
  problemType: string | null;
}

/** config.json's label names by id. */
export function hfLabelsOf(config: HfConfig): string[] {
  return Object.keys(config.id2label).sort((a, b) => Number(a) - Number(b)).map((k) => config.id2label[k]!);
}

/** A task family as the model and model folders see it: which head kinds it makes, how, and how they are saved. */
export interface HeadFamily<Kind extends string, Target, Output extends HeadOutputBase, Options = object> {
  readonly kinds: readonly Kind[];
  /** Batch rows per example for a head of this spec (1 but for multiple choice). */
  rowsPerExample(spec: HeadSpec<Kind>): number;
  createHead(spec: HeadSpec<Kind>, env: HeadEnv<Options>): ModelHead<Target, Output>;
  /** The head spec of a saved task. */
  headSpec(task: SavedTask<Kind>): HeadSpec<Kind>;
  /** Whether a saved task of this kind must list its labels. */
  needsLabels(kind: Kind): boolean;
  /** The HF classes its heads are written as. */
  readonly hfClasses: readonly ElectraArchitecture[];
  /** The HF class a folder of this task's head alone is written as; null: HF has no such head (an ElectraModel with task_specific tensors). */
  hfArchitecture(task: SavedTask<Kind>): ElectraArchitecture | null;
  /** config.json's labels and problem type when the head is written as its HF class. */
  hfConfig(task: SavedTask<Kind>): HfHeadConfig;
  /** The task an HF fine-tuned folder of this class holds (null: not one of this family's classes). */
  taskOfHfFolder(arch: ElectraArchitecture, config: HfConfig, file: string): SavedTask<Kind> | null;
}
