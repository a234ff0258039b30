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
import { familyOf, type AnyModelHead, type BatchTarget, type HeadKind, type HeadOptions, type ItemOutput } from '../families.js';
import type { HeadDims, HeadInput, HeadSpec as GenericHeadSpec } from './head.js';

export type { HeadKind, ItemOutput };
export type HeadSpec = GenericHeadSpec<HeadKind>;

export type FinetuningModelOptions = HeadOptions & {
  /** Examples in one batch (a multiple-choice example takes a row per choice). */
  maxBatch: number;
  maxSeqLen: number;
  dtype?: DType;
  /** HF heads' dropout (classifier_dropout, else hidden_dropout_prob). */
  hfDropout?: number;
  /** The task heads' kernels, where they differ from the encoder's (int8 inference keeps the small heads in fp32). */
  headKernels?: Kernels;
};

export type AnyHead = AnyModelHead;

/** One example of a batch: its task, its tokens (a sequence per choice for multiple choice), and its targets (null at inference). */
export interface BatchItem {
  task: string;
  input: EncodedInput | readonly EncodedInput[];
  target: BatchTarget | null;
}

/** The sequences of an item. */
export function itemInputs(item: BatchItem): readonly EncodedInput[] {
  return 'inputIds' in item.input ? [item.input] : item.input;
}

/** The longest sequence of an item. */
export function itemLength(item: BatchItem): number {
  return itemInputs(item).reduce((m, e) => Math.max(m, e.inputIds.length), 0);
}

/** Options of FinetuningModel.run: dropout, its seed, and whether to run backward. */
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
  /** Encoder rows allocated: maxBatch times the most rows an example takes. */
  readonly maxRows: number;
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
    const maxRows = maxBatch * Math.max(1, ...specs.map((spec) => familyOf(spec.kind).rowsPerExample(spec)));
    this.maxRows = maxRows;
    this.body = new ElectraModel(k, this.params, root, config, tables, { maxBatch: maxRows, maxSeqLen, dtype }, sites);
    const dims: HeadDims = {
      hidden: config.hidden_size, maxRows: maxBatch, maxSeqLen, initializerRange: config.initializer_range,
      hfDropout: opts.hfDropout ?? config.hidden_dropout_prob, dtype,
    };
    for (const spec of specs) {
      if (this.heads.has(spec.task)) throw new Error(`task ${spec.task} is listed twice`);
      const family = familyOf(spec.kind);
      const rows = family.rowsPerExample(spec);
      const head = family.createHead(spec, { k: opts.headKernels ?? k, params: this.params, dims: { ...dims, maxRows: maxBatch * rows }, sites, options: opts });
      this.heads.set(spec.task, { spec, head });
    }
    this.params.allocate(dtype);
    this.dHidden = allocFloats(maxRows * maxSeqLen * config.hidden_size, dtype);
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
    const firstRow: number[] = [];
    const inputs: EncodedInput[] = [];
    for (const it of items) {
      firstRow.push(inputs.length);
      inputs.push(...itemInputs(it));
    }
    if (inputs.length > this.maxRows) throw new Error(`run: ${inputs.length} sequences > the ${this.maxRows} allocated`);
    const batch = padBatch(inputs);
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
    for (const [task, examples] of groups) {
      const { head } = this.heads.get(task)!;
      const rows: number[] = [];
      for (const i of examples) {
        const n = itemInputs(items[i]!).length;
        if (n !== head.rowsPerExample) throw new Error(`run: a ${task} example has ${n} sequences, its head reads ${head.rowsPerExample}`);
        for (let r = 0; r < n; r++) rows.push(firstRow[i]! + r);
      }
      const input: HeadInput = {
        hidden, seqLen: S, rows, inputMask: batch.inputMask, segmentIds: batch.segmentIds,
        training: opts.training, stepSeed: opts.stepSeed, wantGrad: opts.backward,
      };
      const out = head.run(input, examples.map((i) => items[i]!.target));
      examples.forEach((i, j) => {
        outputs[i] = out[j]!;
        loss += out[j]!.loss;
      });
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
