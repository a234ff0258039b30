// The question-answering heads, forward and backward side by side: HF's (independent start and
// end logits) and the reference's (end conditioned on the start, answerability classifier).
import type { Kernels } from '../../kernels/index.js';
import { Linear } from '../../nn/linear.js';
import type { ParameterSet } from '../../nn/params.js';
import { allocFloats } from '../../nn/tensor.js';
import {
  checkRows, headScope, knownTargets, logSoftmaxRow, realLength, softmaxCrossEntropyRow, softmaxRowInto, weightInit,
  type HeadDims, type HeadInput, type HeadStyle, type ModelHead,
} from '../model/head.js';
import { topKIndices } from './postprocess.js';

/** result only at inference. */
export interface QaOutput {
  kind: 'qa';
  loss: number;
  result: QaHeadResult | null;
}


export interface QaTargets {
  startPosition: number;
  endPosition: number;
  isImpossible: boolean;
}

/** One window's outputs, in the form QA post-processing reads (QaRawResult without the id). */
export interface QaHeadResult {
  startTopIndex?: number[];
  startTopLogProbs?: number[];
  endTopIndex?: number[][];
  endTopLogProbs?: number[][];
  /** Over the window's real tokens (masked to [CLS] and the passage for the electra head). */
  startLogits?: Float32Array;
  endLogits?: Float32Array;
  answerableLogit?: number;
}

export interface QaHeadOutput {
  /** Per example (0 without targets). */
  losses: Float64Array;
  /** Per example at inference (no targets); empty in training. */
  results: QaHeadResult[];
}

export interface QaHead extends ModelHead<QaTargets, QaOutput> {
  readonly style: HeadStyle;
  forward(input: HeadInput, targets: readonly QaTargets[] | null): QaHeadOutput;
}

/** The model's view of a QA head: losses with targets, results at inference. */
function runQaHead(head: QaHead, input: HeadInput, targets: readonly (QaTargets | null)[]): QaOutput[] {
  const known = knownTargets(targets);
  const out = head.forward(input, known);
  return input.rows.map((_, j) => ({ kind: 'qa', loss: out.losses[j]!, result: known ? null : out.results[j]! }));
}


/**
 * HF ElectraForQuestionAnswering: qa_outputs = dense(2) per token, start = column 0, end =
 * column 1, loss (CE(start) + CE(end)) / 2. The softmax runs over the window's real tokens, so
 * the loss does not depend on how far a batch is padded.
 */
export class HfQaHead implements QaHead {
  readonly rowsPerExample = 1;
  readonly style = 'hf';
  readonly qaOutputs: Linear;
  private readonly positions: Int32Array;
  private readonly x: Float32Array;
  private readonly logits: Float32Array;
  private readonly dLogits: Float32Array;
  private readonly dx: Float32Array;
  private tokens = 0;
  private hasGrad = false;

  constructor(readonly k: Kernels, ps: ParameterSet, readonly task: string, readonly dims: HeadDims) {
    this.qaOutputs = Linear.declare(k, ps, headScope(task).child('qa_outputs'), dims.hidden, 2, { weightInit: weightInit('hf', dims) });
    const T = dims.maxRows * dims.maxSeqLen;
    this.positions = new Int32Array(T);
    this.x = allocFloats(T * dims.hidden, dims.dtype);
    this.dx = allocFloats(T * dims.hidden, dims.dtype);
    this.logits = allocFloats(T * 2, dims.dtype);
    this.dLogits = allocFloats(T * 2, dims.dtype);
  }

  forward(input: HeadInput, targets: readonly QaTargets[] | null): QaHeadOutput {
    const { k, dims } = this;
    const H = dims.hidden;
    const S = input.seqLen;
    const n = input.rows.length;
    checkRows(this.task, n, dims.maxRows, S, dims.maxSeqLen);
    for (let i = 0; i < n; i++) for (let t = 0; t < S; t++) this.positions[i * S + t] = input.rows[i]! * S + t;
    const T = n * S;
    this.tokens = T;
    k.embeddingGather(input.hidden, this.positions, this.x, T, H);
    this.qaOutputs.forward(this.x, this.logits, T);
    const losses = new Float64Array(n);
    const results: QaHeadResult[] = [];
    this.hasGrad = input.wantGrad && targets !== null;
    if (input.wantGrad && !targets) throw new Error(`${this.task}: gradients need targets`);
    if (this.hasGrad) this.dLogits.fill(0, 0, T * 2);
    // Strided start/end columns, copied to contiguous rows for the softmax.
    const start = allocFloats(S, dims.dtype);
    const end = allocFloats(S, dims.dtype);
    const dStart = allocFloats(S, dims.dtype);
    const dEnd = allocFloats(S, dims.dtype);
    for (let i = 0; i < n; i++) {
      const len = realLength(input.inputMask, input.rows[i]!, S);
      for (let t = 0; t < len; t++) {
        start[t] = this.logits[(i * S + t) * 2]!;
        end[t] = this.logits[(i * S + t) * 2 + 1]!;
      }
      if (targets) {
        const g = targets[i]!;
        if (!(g.startPosition < len && g.endPosition < len)) throw new Error(`${this.task}: answer position outside the window's ${len} tokens`);
        const d = this.hasGrad;
        losses[i] = (softmaxCrossEntropyRow(this.k, start, 0, len, g.startPosition, d ? dStart : null, 0.5)
          + softmaxCrossEntropyRow(this.k, end, 0, len, g.endPosition, d ? dEnd : null, 0.5)) / 2;
        if (d) {
          for (let t = 0; t < len; t++) {
            this.dLogits[(i * S + t) * 2] = dStart[t]!;
            this.dLogits[(i * S + t) * 2 + 1] = dEnd[t]!;
          }
        }
      } else {
        results.push({
          startLogits: Float32Array.from(start.subarray(0, len)),
          endLogits: Float32Array.from(end.subarray(0, len)),
        });
      }
    }
    return { losses, results };
  }

  run(input: HeadInput, targets: readonly (QaTargets | null)[]): QaOutput[] {
    return runQaHead(this, input, targets);
  }

  backward(dHidden: Float32Array): void {
    if (!this.hasGrad) throw new Error(`${this.task}: backward without a forward that kept gradients`);
    this.qaOutputs.backward(this.x, this.dLogits, this.dx, this.tokens);
    this.k.embeddingScatterAdd(this.dx, this.positions, dHidden, this.tokens, this.dims.hidden);
    this.hasGrad = false;
  }
}

export interface ElectraQaOptions {
  /** joint_prediction: end logits conditioned on the start (else independent start/end layers). */
  jointPrediction: boolean;
  /** beam_size: starts (and ends per start) kept at inference. */
  beamSize: number;
  answerableClassifier: boolean;
  answerableUsesStartLogits: boolean;
  answerableWeight: number;
}

/** Width of the reference's hidden layers in the QA head. */
export const QA_HIDDEN = 512;
/** The reference's logit mask: 1000 * (answer_mask - 1). */
const QA_MASK = 1000;

/**
 * The reference's QA head (finetune/qa/qa_tasks.py). Positions allowed as answers are the
 * passage tokens and [CLS] (input_mask * segment_id, plus position 0); others get -1000.
 * - start logits: dense(1) ("start_logits");
 * - joint prediction: end logits from concat(hidden at the start, hidden at the token) ->
 *   dense(512, gelu) ("qa_hidden") -> dense(1) ("qa_logits"), with the gold start in training
 *   and each of the top beam_size starts at inference (top beam_size ends each);
 *   otherwise end logits from their own dense(1) ("end_logits");
 * - loss (CE(start) + CE(end)) / 2;
 * - answerability: concat([CLS], softmax(start logits)-weighted hidden states) -> dense(512,
 *   gelu) ("answer_class_hidden") -> dense(1) ("answer_class"), or dense(1) on [CLS] alone
 *   without answerable_uses_start_logits; sigmoid CE on is_impossible, times answerable_weight.
 * dense(512) over the concatenation is computed as W_start h_start + W_token h_t, with
 * W = [W_start | W_token] stored [512, 2H], so nothing is tiled.
 */
export class ElectraQaHead implements QaHead {
  readonly rowsPerExample = 1;
  readonly style = 'electra';
  readonly startDense: Linear;
  /** Joint prediction. */
  readonly qaHidden: Linear | null;
  readonly qaLogits: Linear | null;
  /** Independent end logits. */
  readonly endDense: Linear | null;
  readonly answerHidden: Linear | null;
  readonly answerOut: Linear | null;

  private readonly positions: Int32Array;
  /** Per example: the flat row (i * S + t) of [CLS], and of the gold start. */
  private readonly clsRows: Int32Array;
  private readonly goldStart: Int32Array;
  private readonly x: Float32Array;
  private readonly dx: Float32Array;
  private readonly maskAdd: Float32Array;
  private readonly startLogits: Float32Array;
  private readonly startProbs: Float32Array;
  private readonly dStart: Float32Array;
  private readonly endLogits: Float32Array;
  private readonly dEnd: Float32Array;
  // Joint prediction.
  private readonly hs: Float32Array | null;
  private readonly dhs: Float32Array | null;
  private readonly startTerm: Float32Array | null;
  private readonly z: Float32Array | null;
  private readonly act: Float32Array | null;
  private readonly dz: Float32Array | null;
  private readonly dzSum: Float32Array | null;
  // Answerability.
  private readonly cls: Float32Array;
  private readonly dCls: Float32Array;
  private readonly rep: Float32Array | null;
  private readonly dRep: Float32Array | null;
  private readonly uPre: Float32Array | null;
  private readonly u: Float32Array | null;
  private readonly du: Float32Array | null;
  private readonly answerLogit: Float32Array;
  private readonly dAnswer: Float32Array;
  private readonly answerTarget: Float32Array;
  private readonly dp: Float32Array;
  // Inference beams (allocated on first use).
  private beamRows = new Int32Array(0);
  private beamHs: Float32Array | null = null;
  private beamTerm: Float32Array | null = null;
  private beamZ: Float32Array | null = null;
  private beamLogits: Float32Array | null = null;

  private n = 0;
  private seqLen = 0;
  private hasGrad = false;

  constructor(
    readonly k: Kernels, ps: ParameterSet, readonly task: string, readonly opts: ElectraQaOptions, readonly dims: HeadDims,
  ) {
    const H = dims.hidden;
    const D = QA_HIDDEN;
    const scope = headScope(task);
    const init = weightInit('electra', dims);
    this.startDense = Linear.declare(k, ps, scope.child('start_logits'), H, 1, { weightInit: init });
    if (opts.jointPrediction) {
      this.qaHidden = Linear.declare(k, ps, scope.child('qa_hidden'), 2 * H, D, { weightInit: init });
      this.qaLogits = Linear.declare(k, ps, scope.child('qa_logits'), D, 1, { weightInit: init });
      this.endDense = null;
    } else {
      this.qaHidden = null;
      this.qaLogits = null;
      this.endDense = Linear.declare(k, ps, scope.child('end_logits'), H, 1, { weightInit: init });
    }
    const withStart = opts.answerableClassifier && opts.answerableUsesStartLogits;
    this.answerHidden = withStart ? Linear.declare(k, ps, scope.child('answer_class_hidden'), 2 * H, D, { weightInit: init }) : null;
    this.answerOut = opts.answerableClassifier
      ? Linear.declare(k, ps, scope.child('answer_class'), withStart ? D : H, 1, { weightInit: init })
      : null;

    const { dtype, maxRows: R, maxSeqLen: S } = dims;
    const T = R * S;
    this.positions = new Int32Array(T);
    this.clsRows = new Int32Array(R);
    this.goldStart = new Int32Array(R);
    this.x = allocFloats(T * H, dtype);
    this.dx = allocFloats(T * H, dtype);
    this.maskAdd = allocFloats(T, dtype);
    this.startLogits = allocFloats(T, dtype);
    this.startProbs = allocFloats(T, dtype);
    this.dStart = allocFloats(T, dtype);
    this.endLogits = allocFloats(T, dtype);
    this.dEnd = allocFloats(T, dtype);
    const joint = opts.jointPrediction;
    this.hs = joint ? allocFloats(R * H, dtype) : null;
    this.dhs = joint ? allocFloats(R * H, dtype) : null;
    this.startTerm = joint ? allocFloats(R * D, dtype) : null;
    this.z = joint ? allocFloats(T * D, dtype) : null;
    this.act = joint ? allocFloats(T * D, dtype) : null;
    this.dz = joint ? allocFloats(T * D, dtype) : null;
    this.dzSum = joint ? allocFloats(R * D, dtype) : null;
    this.cls = allocFloats(R * H, dtype);
    this.dCls = allocFloats(R * H, dtype);
    this.rep = withStart ? allocFloats(R * 2 * H, dtype) : null;
    this.dRep = withStart ? allocFloats(R * 2 * H, dtype) : null;
    this.uPre = withStart ? allocFloats(R * D, dtype) : null;
    this.u = withStart ? allocFloats(R * D, dtype) : null;
    this.du = withStart ? allocFloats(R * D, dtype) : null;
    this.answerLogit = allocFloats(R, dtype);
    this.dAnswer = allocFloats(R, dtype);
    this.answerTarget = allocFloats(R, dtype);
    this.dp = allocFloats(S, dtype);
  }

  forward(input: HeadInput, targets: readonly QaTargets[] | null): QaHeadOutput {
    const { k, dims, opts } = this;
    const H = dims.hidden;
    const D = QA_HIDDEN;
    const S = input.seqLen;
    const n = input.rows.length;
    checkRows(this.task, n, dims.maxRows, S, dims.maxSeqLen);
    if (targets && targets.length !== n) throw new Error(`${this.task}: ${targets.length} targets for ${n} examples`);
    if (input.wantGrad && !targets) throw new Error(`${this.task}: gradients need targets`);
    this.n = n;
    this.seqLen = S;
    this.hasGrad = input.wantGrad;
    const T = n * S;
    for (let i = 0; i < n; i++) {
      const row = input.rows[i]!;
      for (let t = 0; t < S; t++) {
        const j = row * S + t;
        this.positions[i * S + t] = j;
        const allowed = t === 0 || (input.inputMask[j]! !== 0 && input.segmentIds[j]! !== 0);
        this.maskAdd[i * S + t] = allowed ? 0 : -QA_MASK;
      }
    }
    k.embeddingGather(input.hidden, this.positions, this.x, T, H);

    // Start logits, masked; their softmax feeds the loss and the answerability classifier.
    this.startDense.forward(this.x, this.startLogits, T);
    k.add(this.startLogits, this.maskAdd, this.startLogits, T);
    for (let i = 0; i < n; i++) softmaxRowInto(this.startLogits, this.startProbs, i * S, S);

    const losses = new Float64Array(n);
    if (targets) {
      for (let i = 0; i < n; i++) {
        const g = targets[i]!;
        if (!(g.startPosition >= 0 && g.startPosition < S && g.endPosition >= 0 && g.endPosition < S)) {
          throw new Error(`${this.task}: answer position outside the sequence of ${S}`);
        }
        losses[i] = softmaxCrossEntropyRow(this.k, this.startLogits, i * S, S, g.startPosition, this.hasGrad ? this.dStart : null, 0.5) / 2;
      }
    }

    const results: QaHeadResult[] = [];
    if (opts.jointPrediction) {
      // Token term of dense(512) for every token: x W_token^T.
      const w = this.qaHidden!.weight.value;
      k.gemm({
        transA: false, transB: true, m: T, n: D, k: H, alpha: 1, beta: 0,
        a: this.x, lda: H, b: w, bOffset: H, ldb: 2 * H, c: this.z!, ldc: D,
      });
      if (targets) {
        // Training: conditioned on the gold start.
        for (let i = 0; i < n; i++) this.goldStart[i] = i * S + targets[i]!.startPosition;
        k.embeddingGather(this.x, this.goldStart, this.hs!, n, H);
        this.startTermOf(this.hs!, this.startTerm!, n);
        for (let i = 0; i < n; i++) k.biasAdd(this.z!.subarray(i * S * D), this.startTerm!.subarray(i * D, (i + 1) * D), this.z!.subarray(i * S * D), S, D);
        k.gelu(this.z!, this.act!, T * D);
        this.qaLogits!.forward(this.act!, this.endLogits, T);
        k.add(this.endLogits, this.maskAdd, this.endLogits, T);
        for (let i = 0; i < n; i++) {
          losses[i] += softmaxCrossEntropyRow(this.k, this.endLogits, i * S, S, targets[i]!.endPosition, this.hasGrad ? this.dEnd : null, 0.5) / 2;
        }
      } else {
        for (let i = 0; i < n; i++) results.push(this.beamSearch(i, S, realLength(input.inputMask, input.rows[i]!, S)));
      }
    } else {
      this.endDense!.forward(this.x, this.endLogits, T);
      k.add(this.endLogits, this.maskAdd, this.endLogits, T);
      if (targets) {
        for (let i = 0; i < n; i++) {
          losses[i] += softmaxCrossEntropyRow(this.k, this.endLogits, i * S, S, targets[i]!.endPosition, this.hasGrad ? this.dEnd : null, 0.5) / 2;
        }
      } else {
        for (let i = 0; i < n; i++) {
          const len = realLength(input.inputMask, input.rows[i]!, S);
          results.push({
            startLogits: Float32Array.from(this.startLogits.subarray(i * S, i * S + len)),
            endLogits: Float32Array.from(this.endLogits.subarray(i * S, i * S + len)),
          });
        }
      }
    }

    if (this.answerOut) {
      for (let i = 0; i < n; i++) this.clsRows[i] = i * S;
      k.embeddingGather(this.x, this.clsRows, this.cls, n, H);
      if (this.answerHidden) {
        // rep = [cls | sum_t p_t x_t].
        for (let i = 0; i < n; i++) {
          this.rep!.set(this.cls.subarray(i * H, (i + 1) * H), i * 2 * H);
          k.gemm({
            transA: false, transB: false, m: 1, n: H, k: S, alpha: 1, beta: 0,
            a: this.startProbs, aOffset: i * S, lda: S, b: this.x, bOffset: i * S * H, ldb: H, c: this.rep!, cOffset: i * 2 * H + H, ldc: H,
          });
        }
        this.answerHidden.forward(this.rep!, this.uPre!, n);
        k.gelu(this.uPre!, this.u!, n * D);
        this.answerOut.forward(this.u!, this.answerLogit, n);
      } else {
        this.answerOut.forward(this.cls, this.answerLogit, n);
      }
      for (let i = 0; i < n; i++) {
        if (targets) {
          // Sigmoid CE on is_impossible; dAnswer = weight * (sigmoid - z).
          this.answerTarget[i] = targets[i]!.isImpossible ? 1 : 0;
          const w = opts.answerableWeight;
          losses[i] += w * k.sigmoidCrossEntropy(
            this.answerLogit.subarray(i, i + 1), this.answerTarget.subarray(i, i + 1), null, this.dAnswer.subarray(i, i + 1), 1, w,
          );
        } else {
          results[i]!.answerableLogit = this.answerLogit[i]!;
        }
      }
    }
    if (!targets) {
      for (let i = 0; i < n; i++) {
        const len = realLength(input.inputMask, input.rows[i]!, S);
        results[i]!.startLogits ??= Float32Array.from(this.startLogits.subarray(i * S, i * S + len));
      }
    }
    return { losses, results };
  }

  /** term[i] = hs[i] W_start^T + b: the start's part of dense(512), shared by every token. */
  private startTermOf(hs: Float32Array, term: Float32Array, rows: number): void {
    const H = this.dims.hidden;
    const D = QA_HIDDEN;
    this.k.gemm({
      transA: false, transB: true, m: rows, n: D, k: H, alpha: 1, beta: 0,
      a: hs, lda: H, b: this.qaHidden!.weight.value, ldb: 2 * H, c: term, ldc: D,
    });
    this.k.biasAdd(term, this.qaHidden!.bias!.value, term, rows, D);
  }

  /** The reference's inference: top beam_size starts, then the top beam_size ends for each. */
  private beamSearch(i: number, S: number, len: number): QaHeadResult {
    const { k } = this;
    const H = this.dims.hidden;
    const D = QA_HIDDEN;
    const beam = Math.min(this.opts.beamSize, S);
    const startLogProbs = logSoftmaxRow(this.startLogits, i * S, S);
    const startTop = topKIndices(startLogProbs, beam);
    const { dtype } = this.dims;
    if (this.beamRows.length < beam) {
      this.beamRows = new Int32Array(beam);
      this.beamHs = allocFloats(beam * H, dtype);
      this.beamTerm = allocFloats(beam * D, dtype);
    }
    if (!this.beamZ || this.beamZ.length < beam * S * D) {
      this.beamZ = allocFloats(beam * S * D, dtype);
      this.beamLogits = allocFloats(beam * S, dtype);
    }
    const z = this.beamZ;
    const logits = this.beamLogits!;
    const term = this.beamTerm!;
    for (let j = 0; j < beam; j++) this.beamRows[j] = i * S + startTop[j]!;
    k.embeddingGather(this.x, this.beamRows, this.beamHs!, beam, H);
    this.startTermOf(this.beamHs!, term, beam);
    for (let j = 0; j < beam; j++) {
      k.biasAdd(this.z!.subarray(i * S * D, (i + 1) * S * D), term.subarray(j * D, (j + 1) * D), z.subarray(j * S * D), S, D);
    }
    k.gelu(z, z, beam * S * D);
    this.qaLogits!.forward(z, logits, beam * S);
    const endTopIndex: number[][] = [];
    const endTopLogProbs: number[][] = [];
    for (let j = 0; j < beam; j++) {
      for (let t = 0; t < S; t++) logits[j * S + t] += this.maskAdd[i * S + t]!;
      const lp = logSoftmaxRow(logits, j * S, S);
      const top = topKIndices(lp, beam);
      endTopIndex.push(top);
      endTopLogProbs.push(top.map((t) => lp[t]!));
    }
    return {
      startTopIndex: startTop,
      startTopLogProbs: startTop.map((t) => startLogProbs[t]!),
      endTopIndex,
      endTopLogProbs,
      startLogits: Float32Array.from(this.startLogits.subarray(i * S, i * S + len)),
    };
  }

  run(input: HeadInput, targets: readonly (QaTargets | null)[]): QaOutput[] {
    return runQaHead(this, input, targets);
  }

  backward(dHidden: Float32Array): void {
    if (!this.hasGrad) throw new Error(`${this.task}: backward without a forward that kept gradients`);
    const { k, n, seqLen: S } = this;
    const H = this.dims.hidden;
    const D = QA_HIDDEN;
    const T = n * S;
    this.dx.fill(0, 0, T * H);

    if (this.qaHidden) {
      const dz = this.dz!;
      this.qaLogits!.backward(this.act!, this.dEnd, dz, T);
      k.geluBackward(this.z!, dz, dz, T * D);
      const w = this.qaHidden.weight;
      // Token half: dW_token += dz^T x; dx += dz W_token.
      k.gemm({
        transA: true, transB: false, m: D, n: H, k: T, alpha: 1, beta: 1,
        a: dz, lda: D, b: this.x, ldb: H, c: w.grad, cOffset: H, ldc: 2 * H,
      });
      k.gemm({
        transA: false, transB: false, m: T, n: H, k: D, alpha: 1, beta: 1,
        a: dz, lda: D, b: w.value, bOffset: H, ldb: 2 * H, c: this.dx, ldc: H,
      });
      k.biasBackward(dz, this.qaHidden.bias!.grad, T, D);
      // Start half: the start term is shared by every token of the example.
      const dzSum = this.dzSum!;
      dzSum.fill(0, 0, n * D);
      for (let i = 0; i < n; i++) k.biasBackward(dz.subarray(i * S * D, (i + 1) * S * D), dzSum.subarray(i * D, (i + 1) * D), S, D);
      k.gemm({
        transA: true, transB: false, m: D, n: H, k: n, alpha: 1, beta: 1,
        a: dzSum, lda: D, b: this.hs!, ldb: H, c: w.grad, ldc: 2 * H,
      });
      k.gemm({
        transA: false, transB: false, m: n, n: H, k: D, alpha: 1, beta: 0,
        a: dzSum, lda: D, b: w.value, ldb: 2 * H, c: this.dhs!, ldc: H,
      });
      for (let i = 0; i < n; i++) k.axpy(1, this.dhs!.subarray(i * H, (i + 1) * H), this.dx.subarray(this.goldStart[i]! * H), H);
    } else {
      this.endDense!.backward(this.x, this.dEnd, this.dx, T, true);
    }

    if (this.answerOut) {
      if (this.answerHidden) {
        this.answerOut.backward(this.u!, this.dAnswer, this.du!, n);
        k.geluBackward(this.uPre!, this.du!, this.du!, n * D);
        this.answerHidden.backward(this.rep!, this.du!, this.dRep!, n);
        const dp = this.dp;
        for (let i = 0; i < n; i++) {
          const dRep = this.dRep!;
          // [CLS] half.
          k.axpy(1, dRep.subarray(i * 2 * H, i * 2 * H + H), this.dx.subarray(i * S * H), H);
          // Weighted-sum half: dp_t = dsf . x_t; dx_t += p_t dsf; dStart += softmax backward of dp.
          k.gemm({
            transA: false, transB: true, m: S, n: 1, k: H, alpha: 1, beta: 0,
            a: this.x, aOffset: i * S * H, lda: H, b: dRep, bOffset: i * 2 * H + H, ldb: H, c: dp, ldc: 1,
          });
          k.gemm({
            transA: false, transB: false, m: S, n: H, k: 1, alpha: 1, beta: 1,
            a: this.startProbs, aOffset: i * S, lda: 1, b: dRep, bOffset: i * 2 * H + H, ldb: H, c: this.dx, cOffset: i * S * H, ldc: H,
          });
          let dot = 0;
          for (let t = 0; t < S; t++) dot += this.startProbs[i * S + t]! * dp[t]!;
          for (let t = 0; t < S; t++) this.dStart[i * S + t] += this.startProbs[i * S + t]! * (dp[t]! - dot);
        }
      } else {
        this.answerOut.backward(this.cls, this.dAnswer, this.dCls, n);
        for (let i = 0; i < n; i++) k.axpy(1, this.dCls.subarray(i * H, (i + 1) * H), this.dx.subarray(i * S * H), H);
      }
    }

    this.startDense.backward(this.x, this.dStart, this.dx, T, true);
    k.embeddingScatterAdd(this.dx, this.positions, dHidden, T, H);
    this.hasGrad = false;
  }
}
