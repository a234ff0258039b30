// The tagging head (a label per word, read at its first sub-token), forward and backward side by side.
import type { Kernels } from '../../kernels/index.js';
import { dropoutBackward, dropoutForward, type DropoutSites } from '../../nn/dropout.js';
import { Linear } from '../../nn/linear.js';
import type { ParameterSet } from '../../nn/params.js';
import { allocFloats } from '../../nn/tensor.js';
import {
  checkRows, headScope, knownTargets, softmaxCrossEntropyRow, weightInit,
  type HeadDims, type HeadInput, type HeadStyle, type ModelHead,
} from '../model/head.js';

/** Logits per labelled word. */
export interface TaggingOutput {
  kind: 'tagging';
  loss: number;
  logits: number[][];
}


/** One example's labelled tokens: the first sub-token of each word. */
export interface TaggingTargets {
  /** Positions in the sequence. */
  positions: readonly number[];
  /** Label ids (null at inference). */
  labels: readonly number[] | null;
}

export interface TaggingHeadOutput {
  /** [labelled tokens of all examples, numLabels] (view). */
  logits: Float32Array;
  /** Where each example's rows start in logits (length examples + 1). */
  offsets: number[];
  /** Per example: the sum of its words' cross-entropies. */
  losses: Float64Array;
}

/**
 * A dense layer per token ("classifier", HF ElectraForTokenClassification's name), applied at
 * the labelled positions only. electra: no dropout (the reference's tagging head has none);
 * hf: dropout before the classifier.
 */
export class TaggingHead implements ModelHead<TaggingTargets, TaggingOutput> {
  readonly rowsPerExample = 1;
  readonly classifier: Linear;
  private readonly dropoutProb: number;
  private readonly site: number;
  private readonly positions: Int32Array;
  private readonly x: Float32Array;
  private readonly logits: Float32Array;
  private readonly dLogits: Float32Array;
  private readonly dx: Float32Array;
  private m = 0;
  private training = false;
  private stepSeed = 0;
  private hasGrad = false;

  constructor(
    readonly k: Kernels, ps: ParameterSet, readonly task: string, readonly numLabels: number, readonly style: HeadStyle,
    readonly dims: HeadDims, sites: DropoutSites,
  ) {
    const H = dims.hidden;
    this.classifier = Linear.declare(k, ps, headScope(task).child('classifier'), H, numLabels, { weightInit: weightInit(style, dims) });
    this.dropoutProb = style === 'hf' ? dims.hfDropout : 0;
    this.site = sites.allocate();
    const maxTokens = dims.maxRows * dims.maxSeqLen;
    this.positions = new Int32Array(maxTokens);
    this.x = allocFloats(maxTokens * H, dims.dtype);
    this.dx = allocFloats(maxTokens * H, dims.dtype);
    this.logits = allocFloats(maxTokens * numLabels, dims.dtype);
    this.dLogits = allocFloats(maxTokens * numLabels, dims.dtype);
  }

  forward(input: HeadInput, targets: readonly TaggingTargets[]): TaggingHeadOutput {
    const { k, dims } = this;
    const H = dims.hidden;
    const C = this.numLabels;
    const n = input.rows.length;
    checkRows(this.task, n, dims.maxRows, input.seqLen, dims.maxSeqLen);
    if (targets.length !== n) throw new Error(`${this.task}: ${targets.length} targets for ${n} examples`);
    const offsets = [0];
    let m = 0;
    targets.forEach((t, i) => {
      for (const p of t.positions) {
        if (!(p >= 0 && p < input.seqLen)) throw new Error(`${this.task}: labelled position ${p} outside the sequence of ${input.seqLen}`);
        this.positions[m++] = input.rows[i]! * input.seqLen + p;
      }
      offsets.push(m);
    });
    this.m = m;
    this.training = input.training;
    this.stepSeed = input.stepSeed;
    k.embeddingGather(input.hidden, this.positions, this.x, m, H);
    dropoutForward(k, this.x, m * H, input.training ? this.dropoutProb : 0, input.stepSeed, this.site);
    this.classifier.forward(this.x, this.logits, m);
    const losses = new Float64Array(n);
    const withLabels = targets.every((t) => t.labels !== null);
    this.hasGrad = input.wantGrad && withLabels;
    if (input.wantGrad && !withLabels) throw new Error(`${this.task}: gradients need labels`);
    if (withLabels) {
      const d = this.hasGrad ? this.dLogits : null;
      targets.forEach((t, i) => {
        const labels = t.labels!;
        if (labels.length !== t.positions.length) throw new Error(`${this.task}: ${labels.length} labels for ${t.positions.length} positions`);
        let loss = 0;
        labels.forEach((label, j) => {
          if (!(Number.isInteger(label) && label >= 0 && label < C)) throw new Error(`${this.task}: label ${label} outside [0, ${C})`);
          loss += softmaxCrossEntropyRow(this.k, this.logits, (offsets[i]! + j) * C, C, label, d, 1);
        });
        losses[i] = loss;
      });
    }
    return { logits: this.logits.subarray(0, m * C), offsets, losses };
  }

  /** The model's view: per example, the logits of its labelled words (positions are needed even at inference). */
  run(input: HeadInput, targets: readonly (TaggingTargets | null)[]): TaggingOutput[] {
    const known = knownTargets(targets);
    if (!known) throw new Error(`${this.task}: tagging needs the labelled positions of every example`);
    const out = this.forward(input, known);
    const C = this.numLabels;
    return input.rows.map((_, j) => {
      const words: number[][] = [];
      for (let r = out.offsets[j]!; r < out.offsets[j + 1]!; r++) words.push(Array.from(out.logits.subarray(r * C, (r + 1) * C)));
      return { kind: 'tagging', loss: out.losses[j]!, logits: words };
    });
  }

  backward(dHidden: Float32Array): void {
    if (!this.hasGrad) throw new Error(`${this.task}: backward without a forward that kept gradients`);
    const { k, m } = this;
    const H = this.dims.hidden;
    this.classifier.backward(this.x, this.dLogits, this.dx, m);
    dropoutBackward(k, this.dx, m * H, this.training ? this.dropoutProb : 0, this.stepSeed, this.site);
    k.embeddingScatterAdd(this.dx, this.positions, dHidden, m, H);
    this.hasGrad = false;
  }
}
