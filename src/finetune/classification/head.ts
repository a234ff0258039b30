// The sentence (pair) classification and regression head, forward and backward side by side.
import type { Kernels } from '../../kernels/index.js';
import { dropoutBackward, dropoutForward, type DropoutSites } from '../../nn/dropout.js';
import { Linear } from '../../nn/linear.js';
import type { ParameterSet } from '../../nn/params.js';
import { allocFloats } from '../../nn/tensor.js';
import {
  checkRows, headScope, knownTargets, realLength, softmaxCrossEntropyRow, weightInit,
  type HeadDims, type HeadInput, type HeadStyle, type ModelHead, type SummaryType,
} from '../model/head.js';

/** A class id (classification) or a target value (regression). */
export type SentenceTarget = number;

export type SentenceOutput =
  | { kind: 'classification'; loss: number; logits: number[] }
  | { kind: 'regression'; loss: number; prediction: number };


export interface SentenceHeadOutput {
  /** [examples, numOutputs] (a view, valid until the next forward). */
  logits: Float32Array;
  /** Per example: cross-entropy, or squared error for regression (0 without targets). */
  losses: Float64Array;
}

/**
 * On the sequence's summary (summary_type: the [CLS] state, or the mean of the real tokens' states).
 * electra: dropout 0.1, dense(num_labels) ("classifier"); regression has one output and a
 * squared-error loss. hf (ElectraClassificationHead): dropout, dense(H) + GELU
 * ("classifier.dense"), dropout, dense(num_labels) ("classifier.out_proj").
 */
export class SentenceHead implements ModelHead<SentenceTarget, SentenceOutput> {
  readonly rowsPerExample = 1;
  readonly dense: Linear | null;
  readonly output: Linear;
  private readonly dropoutProb: number;
  private readonly clsSite: number;
  private readonly innerSite: number;
  private readonly positions: Int32Array;
  /** mean: real tokens per example. */
  private readonly tokens: Int32Array;
  private inputMask: Int32Array = new Int32Array(0);
  private seqLen = 0;
  /** The summary of every example [n, H] (the [CLS] state or the token mean). */
  private readonly cls: Float32Array;
  private readonly pre: Float32Array | null;
  private readonly act: Float32Array | null;
  private readonly logits: Float32Array;
  private readonly dLogits: Float32Array;
  private readonly dAct: Float32Array | null;
  private readonly dCls: Float32Array;
  private n = 0;
  private training = false;
  private stepSeed = 0;
  private hasGrad = false;

  constructor(
    readonly k: Kernels, ps: ParameterSet, readonly task: string, readonly kind: 'classification' | 'regression',
    readonly numOutputs: number, readonly style: HeadStyle, readonly dims: HeadDims, sites: DropoutSites,
    readonly summaryType: SummaryType = 'first',
  ) {
    if (kind === 'regression' && numOutputs !== 1) throw new Error(`${task}: a regression head has 1 output, not ${numOutputs}`);
    if (kind === 'classification' && numOutputs < 2) throw new Error(`${task}: a classifier needs at least 2 labels, got ${numOutputs}`);
    const H = dims.hidden;
    const scope = headScope(task);
    const init = weightInit(style, dims);
    if (style === 'electra') {
      this.dense = null;
      this.output = Linear.declare(k, ps, scope.child('classifier'), H, numOutputs, { weightInit: init });
      this.dropoutProb = 0.1;
    } else {
      this.dense = Linear.declare(k, ps, scope.child('classifier.dense'), H, H, { weightInit: init });
      this.output = Linear.declare(k, ps, scope.child('classifier.out_proj'), H, numOutputs, { weightInit: init });
      this.dropoutProb = dims.hfDropout;
    }
    this.clsSite = sites.allocate();
    this.innerSite = sites.allocate();
    const R = dims.maxRows;
    const { dtype } = dims;
    this.positions = new Int32Array(R);
    this.tokens = new Int32Array(R);
    this.cls = allocFloats(R * H, dtype);
    this.pre = style === 'hf' ? allocFloats(R * H, dtype) : null;
    this.act = style === 'hf' ? allocFloats(R * H, dtype) : null;
    this.dAct = style === 'hf' ? allocFloats(R * H, dtype) : null;
    this.logits = allocFloats(R * numOutputs, dtype);
    this.dLogits = allocFloats(R * numOutputs, dtype);
    this.dCls = allocFloats(R * H, dtype);
  }

  /** targets: label ids, or regression targets; null at inference. */
  forward(input: HeadInput, targets: ArrayLike<number> | null): SentenceHeadOutput {
    const { k, dims } = this;
    const H = dims.hidden;
    const n = input.rows.length;
    const C = this.numOutputs;
    checkRows(this.task, n, dims.maxRows, input.seqLen, dims.maxSeqLen);
    this.n = n;
    this.training = input.training;
    this.stepSeed = input.stepSeed;
    const p = input.training ? this.dropoutProb : 0;
    for (let i = 0; i < n; i++) this.positions[i] = input.rows[i]! * input.seqLen;
    if (this.summaryType === 'mean') this.meanForward(input, n);
    else k.embeddingGather(input.hidden, this.positions, this.cls, n, H);
    dropoutForward(k, this.cls, n * H, p, input.stepSeed, this.clsSite);
    if (this.dense) {
      this.dense.forward(this.cls, this.pre!, n);
      k.gelu(this.pre!, this.act!, n * H);
      dropoutForward(k, this.act!, n * H, p, input.stepSeed, this.innerSite);
      this.output.forward(this.act!, this.logits, n);
    } else {
      this.output.forward(this.cls, this.logits, n);
    }
    const losses = new Float64Array(n);
    this.hasGrad = input.wantGrad && targets !== null;
    if (targets) {
      if (targets.length !== n) throw new Error(`${this.task}: ${targets.length} targets for ${n} examples`);
      const d = this.hasGrad ? this.dLogits : null;
      for (let i = 0; i < n; i++) {
        if (this.kind === 'classification') {
          const label = targets[i]!;
          if (!(Number.isInteger(label) && label >= 0 && label < C)) throw new Error(`${this.task}: label ${label} outside [0, ${C})`);
          losses[i] = softmaxCrossEntropyRow(this.k, this.logits, i * C, C, label, d, 1);
        } else {
          const diff = this.logits[i]! - targets[i]!;
          losses[i] = diff * diff;
          if (d) d[i] = 2 * diff;
        }
      }
    } else if (input.wantGrad) throw new Error(`${this.task}: gradients need targets`);
    return { logits: this.logits.subarray(0, n * C), losses };
  }

  /** The model's view: outputs per example (losses only when every target is known). */
  run(input: HeadInput, targets: readonly (SentenceTarget | null)[]): SentenceOutput[] {
    const out = this.forward(input, knownTargets(targets));
    const C = this.numOutputs;
    return input.rows.map((_, j) => {
      const logits = Array.from(out.logits.subarray(j * C, (j + 1) * C));
      return this.kind === 'regression'
        ? { kind: 'regression', loss: out.losses[j]!, prediction: logits[0]! }
        : { kind: 'classification', loss: out.losses[j]!, logits };
    });
  }

  /** Adds the gradient of the summed loss w.r.t. the hidden states into dHidden. */
  backward(dHidden: Float32Array): void {
    if (!this.hasGrad) throw new Error(`${this.task}: backward without a forward that kept gradients`);
    const { k, n } = this;
    const H = this.dims.hidden;
    const p = this.training ? this.dropoutProb : 0;
    if (this.dense) {
      this.output.backward(this.act!, this.dLogits, this.dAct!, n);
      dropoutBackward(k, this.dAct!, n * H, p, this.stepSeed, this.innerSite);
      k.geluBackward(this.pre!, this.dAct!, this.dAct!, n * H);
      this.dense.backward(this.cls, this.dAct!, this.dCls, n);
    } else {
      this.output.backward(this.cls, this.dLogits, this.dCls, n);
    }
    dropoutBackward(k, this.dCls, n * H, p, this.stepSeed, this.clsSite);
    if (this.summaryType === 'mean') this.meanBackward(dHidden, n);
    else k.embeddingScatterAdd(this.dCls, this.positions, dHidden, n, H);
    this.hasGrad = false;
  }

  /** cls[i] = the mean of example i's real token states (positions[i] is its first token). */
  private meanForward(input: HeadInput, n: number): void {
    const H = this.dims.hidden;
    const T = input.seqLen;
    this.inputMask = input.inputMask;
    this.seqLen = T;
    const cls = this.cls;
    const hidden = input.hidden;
    for (let i = 0; i < n; i++) {
      const start = this.positions[i]!;
      const count = realLength(input.inputMask, input.rows[i]!, T);
      if (count === 0) throw new Error(`${this.task}: an example with no real tokens (input_mask all 0)`);
      this.tokens[i] = count;
      const out = i * H;
      cls.fill(0, out, out + H);
      for (let t = 0; t < T; t++) {
        if (!input.inputMask[start + t]) continue;
        const from = (start + t) * H;
        for (let h = 0; h < H; h++) cls[out + h]! += hidden[from + h]!;
      }
      const scale = 1 / count;
      for (let h = 0; h < H; h++) cls[out + h]! *= scale;
    }
  }

  /** dHidden of every real token of example i += dCls[i] / its real tokens. */
  private meanBackward(dHidden: Float32Array, n: number): void {
    const H = this.dims.hidden;
    const T = this.seqLen;
    for (let i = 0; i < n; i++) {
      const start = this.positions[i]!;
      const scale = 1 / this.tokens[i]!;
      const from = i * H;
      for (let t = 0; t < T; t++) {
        if (!this.inputMask[start + t]) continue;
        const out = (start + t) * H;
        for (let h = 0; h < H; h++) dHidden[out + h]! += this.dCls[from + h]! * scale;
      }
    }
  }
}
