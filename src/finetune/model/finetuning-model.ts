// The fine-tuning network (run_finetuning.FinetuningModel): one shared ELECTRA encoder and a
// head per task. A batch may mix tasks: the encoder runs once over all of it and each head
// runs on its own task's rows; the loss is the sum of every example's loss.
import type { Kernels } from '../../kernels/index.js';
import type { ElectraConfig } from '../../model/config.js';
import { declareEmbeddingTables, ElectraModel } from '../../model/electra-model.js';
import { DropoutSites } from '../../nn/dropout.js';
import { ParameterSet, Scope } from '../../nn/params.js';
import { allocFloats, type DType } from '../../nn/tensor.js';
import { padBatch, type EncodedInput, type InputBatch } from '../features/batch.js';
import {
  ElectraQaHead, HfQaHead, SentenceHead, TaggingHead,
  type ElectraQaOptions, type HeadDims, type HeadInput, type HeadStyle, type QaHead, type QaHeadResult, type QaTargets,
  type TaggingTargets,
} from './heads.js';

export type HeadKind = 'classification' | 'regression' | 'tagging' | 'qa';

export interface HeadSpec {
  task: string;
  kind: HeadKind;
  style: HeadStyle;
  /** Classes (classification, tagging); 1 for regression; 0 for qa. */
  numLabels: number;
}

export interface FinetuningModelOptions {
  maxBatch: number;
  maxSeqLen: number;
  dtype?: DType;
  /** Settings of the reference QA head (needed when a task is 'qa' with style 'electra'). */
  qa?: ElectraQaOptions;
  /** HF heads' dropout (classifier_dropout, else hidden_dropout_prob). */
  hfDropout?: number;
}

export type AnyHead = SentenceHead | TaggingHead | QaHead;

/** One example of a batch: its task, its tokens, and its targets (null at inference). */
export type BatchItem =
  | { task: string; input: EncodedInput; target: number | null }
  | { task: string; input: EncodedInput; target: TaggingTargets }
  | { task: string; input: EncodedInput; target: QaTargets | null };

export type ItemOutput =
  | { kind: 'classification'; loss: number; logits: number[] }
  | { kind: 'regression'; loss: number; prediction: number }
  /** logits per labelled word. */
  | { kind: 'tagging'; loss: number; logits: number[][] }
  /** result only at inference. */
  | { kind: 'qa'; loss: number; result: QaHeadResult | null };

export interface RunOptions {
  /** Dropout on. */
  training: boolean;
  /** Seeds this batch's dropout masks. */
  stepSeed: number;
  /** Accumulate the gradient of the summed loss into params.grads (needs targets). */
  backward: boolean;
}

export interface RunResult {
  /** Sum of the examples' losses. */
  loss: number;
  outputs: ItemOutput[];
  batch: InputBatch;
}

export class FinetuningModel {
  readonly params = new ParameterSet();
  readonly body: ElectraModel;
  readonly heads = new Map<string, { spec: HeadSpec; head: AnyHead }>();
  readonly maxBatch: number;
  readonly maxSeqLen: number;
  private readonly dHidden: Float32Array;

  /** Parameters: "electra.*" (HF names), then "task_specific.<task>.*" per head. */
  constructor(readonly k: Kernels, readonly config: ElectraConfig, readonly specs: readonly HeadSpec[], opts: FinetuningModelOptions) {
    const dtype = opts.dtype ?? 'float32';
    const { maxBatch, maxSeqLen } = opts;
    this.maxBatch = maxBatch;
    this.maxSeqLen = maxSeqLen;
    const sites = new DropoutSites();
    const root = new Scope('electra', 'electra', ['discriminator']);
    const tables = declareEmbeddingTables(k, this.params, root, config);
    this.body = new ElectraModel(k, this.params, root, config, tables, { maxBatch, maxSeqLen, dtype }, sites);
    const dims: HeadDims = {
      hidden: config.hidden_size, maxRows: maxBatch, maxSeqLen, initializerRange: config.initializer_range,
      hfDropout: opts.hfDropout ?? config.hidden_dropout_prob, dtype,
    };
    for (const spec of specs) {
      if (this.heads.has(spec.task)) throw new Error(`task ${spec.task} is listed twice`);
      let head: AnyHead;
      switch (spec.kind) {
        case 'classification':
        case 'regression':
          head = new SentenceHead(k, this.params, spec.task, spec.kind, spec.numLabels, spec.style, dims, sites);
          break;
        case 'tagging':
          head = new TaggingHead(k, this.params, spec.task, spec.numLabels, spec.style, dims, sites);
          break;
        case 'qa':
          if (spec.style === 'hf') head = new HfQaHead(k, this.params, spec.task, dims);
          else {
            if (!opts.qa) throw new Error(`task ${spec.task}: the reference QA head needs its options (beam size, answerability)`);
            head = new ElectraQaHead(k, this.params, spec.task, opts.qa, dims);
          }
          break;
      }
      this.heads.set(spec.task, { spec, head });
    }
    this.params.allocate(dtype);
    this.dHidden = allocFloats(maxBatch * maxSeqLen * config.hidden_size, dtype);
  }

  /** Initializes every parameter (truncated normal 0.02 in the encoder; heads as declared). */
  initialize(seed: number): void {
    this.params.initialize(seed);
  }

  /** Names of the parameters of a task's head. */
  headParameterNames(task: string): string[] {
    const prefix = `task_specific.${task}.`;
    return this.params.entries.filter((e) => e.name.startsWith(prefix)).map((e) => e.name);
  }

  /** Forward (and, with opts.backward, backward) over one batch of examples of any of the tasks. */
  run(items: readonly BatchItem[], opts: RunOptions): RunResult {
    if (items.length === 0) throw new Error('run: empty batch');
    if (items.length > this.maxBatch) throw new Error(`run: ${items.length} examples > the ${this.maxBatch} allocated`);
    const batch = padBatch(items.map((it) => it.input));
    if (batch.seqLength > this.maxSeqLen) throw new Error(`run: a sequence of ${batch.seqLength} tokens > the ${this.maxSeqLen} allocated`);
    const S = batch.seqLength;
    const dropout = this.body.dropout(opts.training, opts.stepSeed);
    const hidden = this.body.forward(batch.inputIds, batch.segmentIds, batch.inputMask, batch.batchSize, S, dropout);

    const groups = new Map<string, number[]>();
    items.forEach((it, i) => {
      if (!this.heads.has(it.task)) throw new Error(`run: no head for task '${it.task}' (heads: ${[...this.heads.keys()].join(', ')})`);
      const g = groups.get(it.task);
      if (g) g.push(i);
      else groups.set(it.task, [i]);
    });

    const outputs = new Array<ItemOutput>(items.length);
    let loss = 0;
    const ran: AnyHead[] = [];
    for (const [task, rows] of groups) {
      const { spec, head } = this.heads.get(task)!;
      const input: HeadInput = {
        hidden, seqLen: S, rows, inputMask: batch.inputMask, segmentIds: batch.segmentIds,
        training: opts.training, stepSeed: opts.stepSeed, wantGrad: opts.backward,
      };
      if (head instanceof SentenceHead) {
        const targets = rows.map((i) => items[i]!.target as number | null);
        const known = targets.every((t) => t !== null);
        const out = head.forward(input, known ? (targets as number[]) : null);
        const C = head.numOutputs;
        rows.forEach((i, j) => {
          const logits = Array.from(out.logits.subarray(j * C, (j + 1) * C));
          outputs[i] = spec.kind === 'regression'
            ? { kind: 'regression', loss: out.losses[j]!, prediction: logits[0]! }
            : { kind: 'classification', loss: out.losses[j]!, logits };
          loss += out.losses[j]!;
        });
      } else if (head instanceof TaggingHead) {
        const out = head.forward(input, rows.map((i) => items[i]!.target as TaggingTargets));
        const C = head.numLabels;
        rows.forEach((i, j) => {
          const words: number[][] = [];
          for (let r = out.offsets[j]!; r < out.offsets[j + 1]!; r++) words.push(Array.from(out.logits.subarray(r * C, (r + 1) * C)));
          outputs[i] = { kind: 'tagging', loss: out.losses[j]!, logits: words };
          loss += out.losses[j]!;
        });
      } else {
        const targets = rows.map((i) => items[i]!.target as QaTargets | null);
        const known = targets.every((t) => t !== null);
        const out = head.forward(input, known ? (targets as QaTargets[]) : null);
        rows.forEach((i, j) => {
          outputs[i] = { kind: 'qa', loss: out.losses[j]!, result: known ? null : out.results[j]! };
          loss += out.losses[j]!;
        });
      }
      ran.push(head);
    }

    if (opts.backward) {
      const dHidden = this.dHidden;
      dHidden.fill(0, 0, batch.batchSize * S * this.config.hidden_size);
      for (const head of ran) head.backward(dHidden);
      this.body.backward(dHidden);
    }
    return { loss, outputs, batch };
  }
}
