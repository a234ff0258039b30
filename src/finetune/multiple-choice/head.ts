// The multiple-choice head, as transformers' ElectraForMultipleChoice computes it: every choice
// is its own sequence; its [CLS] state goes through the sequence summary (dense(H) + GELU, then
// dropout summary_last_dropout = 0.1) and dense(1) to one score; the loss is the softmax
// cross-entropy over an example's choices. Forward and backward side by side.
import type { Kernels } from '../../kernels/index.js';
import { dropoutBackward, dropoutForward, type DropoutSites } from '../../nn/dropout.js';
import { Linear } from '../../nn/linear.js';
import type { ParameterSet } from '../../nn/params.js';
import { allocFloats } from '../../nn/tensor.js';
import {
  checkRows, headScope, knownTargets, softmaxCrossEntropyRow, weightInit, type HeadDims, type HeadInput, type HeadStyle, type ModelHead,
} from '../model/head.js';

/** The choices' scores of one example (softmax them for probabilities). */
export interface ChoiceOutput {
  kind: 'multiple_choice';
  loss: number;
  logits: number[];
}

export interface MultipleChoiceHeadOutput {
  /** [examples, choices] (a view, valid until the next forward). */
  scores: Float32Array;
  /** Per example: cross-entropy over its choices (0 without targets). */
  losses: Float64Array;
}

/** HF's summary_last_dropout default. */
const SUMMARY_DROPOUT = 0.1;

export class MultipleChoiceHead implements ModelHead<number, ChoiceOutput> {
  readonly summary: Linear;
  readonly classifier: Linear;
  private readonly site: number;
  private readonly positions: Int32Array;
  private readonly cls: Float32Array;
  private readonly pre: Float32Array;
  private readonly act: Float32Array;
  private readonly scores: Float32Array;
  private readonly dScores: Float32Array;
  private readonly dAct: Float32Array;
  private readonly dCls: Float32Array;
  private rows = 0;
  private training = false;
  private stepSeed = 0;
  private hasGrad = false;

  /** numChoices: the sequences of every example (dims.maxRows counts sequences). */
  constructor(
    readonly k: Kernels, ps: ParameterSet, readonly task: string, readonly numChoices: number, readonly style: HeadStyle,
    readonly dims: HeadDims, sites: DropoutSites,
  ) {
    if (!(Number.isInteger(numChoices) && numChoices >= 2)) throw new Error(`${task}: multiple choice needs at least 2 choices, got ${numChoices}`);
    const H = dims.hidden;
    const scope = headScope(task);
    const init = weightInit(style, dims);
    this.summary = Linear.declare(k, ps, scope.child('sequence_summary.summary'), H, H, { weightInit: init });
    this.classifier = Linear.declare(k, ps, scope.child('classifier'), H, 1, { weightInit: init });
    this.site = sites.allocate();
    const R = dims.maxRows;
    const { dtype } = dims;
    this.positions = new Int32Array(R);
    this.cls = allocFloats(R * H, dtype);
    this.pre = allocFloats(R * H, dtype);
    this.act = allocFloats(R * H, dtype);
    this.dAct = allocFloats(R * H, dtype);
    this.dCls = allocFloats(R * H, dtype);
    this.scores = allocFloats(R, dtype);
    this.dScores = allocFloats(R, dtype);
  }

  get rowsPerExample(): number {
    return this.numChoices;
  }

  /** input.rows: numChoices consecutive rows per example; targets: the right choice of each. */
  forward(input: HeadInput, targets: readonly number[] | null): MultipleChoiceHeadOutput {
    const { k, dims } = this;
    const H = dims.hidden;
    const C = this.numChoices;
    const rows = input.rows.length;
    checkRows(this.task, rows, dims.maxRows, input.seqLen, dims.maxSeqLen);
    if (rows % C !== 0) throw new Error(`${this.task}: ${rows} rows are not ${C} choices per example`);
    const n = rows / C;
    this.rows = rows;
    this.training = input.training;
    this.stepSeed = input.stepSeed;
    const p = input.training ? SUMMARY_DROPOUT : 0;
    for (let r = 0; r < rows; r++) this.positions[r] = input.rows[r]! * input.seqLen;
    k.embeddingGather(input.hidden, this.positions, this.cls, rows, H);
    this.summary.forward(this.cls, this.pre, rows);
    k.gelu(this.pre, this.act, rows * H);
    dropoutForward(k, this.act, rows * H, p, input.stepSeed, this.site);
    this.classifier.forward(this.act, this.scores, rows);
    const losses = new Float64Array(n);
    this.hasGrad = input.wantGrad && targets !== null;
    if (input.wantGrad && !targets) throw new Error(`${this.task}: gradients need targets`);
    if (targets) {
      if (targets.length !== n) throw new Error(`${this.task}: ${targets.length} targets for ${n} examples`);
      const d = this.hasGrad ? this.dScores : null;
      for (let i = 0; i < n; i++) {
        const label = targets[i]!;
        if (!(Number.isInteger(label) && label >= 0 && label < C)) throw new Error(`${this.task}: answer ${label} outside [0, ${C})`);
        losses[i] = softmaxCrossEntropyRow(k, this.scores, i * C, C, label, d, 1);
      }
    }
    return { scores: this.scores.subarray(0, rows), losses };
  }

  run(input: HeadInput, targets: readonly (number | null)[]): ChoiceOutput[] {
    const out = this.forward(input, knownTargets(targets));
    const C = this.numChoices;
    return targets.map((_, i) => ({ kind: 'multiple_choice', loss: out.losses[i]!, logits: Array.from(out.scores.subarray(i * C, (i + 1) * C)) }));
  }

  backward(dHidden: Float32Array): void {
    if (!this.hasGrad) throw new Error(`${this.task}: backward without a forward that kept gradients`);
    const { k, rows } = this;
    const H = this.dims.hidden;
    this.classifier.backward(this.act, this.dScores, this.dAct, rows);
    dropoutBackward(k, this.dAct, rows * H, this.training ? SUMMARY_DROPOUT : 0, this.stepSeed, this.site);
    k.geluBackward(this.pre, this.dAct, this.dAct, rows * H);
    this.summary.backward(this.cls, this.dAct, this.dCls, rows);
    k.embeddingScatterAdd(this.dCls, this.positions, dHidden, rows, H);
    this.hasGrad = false;
  }
}
