// The inference surface of the pre-trained models: the discriminator (HF ElectraForPreTraining)
// and the generator / masked LM (HF ElectraForMaskedLM). Inputs are HF-style padded batches
// (input_ids, attention_mask, token_type_ids as equal-length rows) or text (pairs) tokenized with
// the model's vocabulary; batches of any size and any length up to max_position_embeddings (the
// activation buffers grow as needed); results are plain typed arrays, copies the caller keeps.
import { join } from 'node:path';
import { FormatError, InputError, UsageError } from '../errors.js';
import type { LoadedModelFolder } from '../io/hf-folder.js';
import { kernels as defaultKernels, withPrecision, type Kernels } from '../kernels/index.js';
import type { ElectraConfig } from '../model/config.js';
import { ElectraDiscriminator, type InferenceShape } from '../model/discriminator.js';
import { GrowingModel } from '../model/growing.js';
import { NO_DROPOUT } from '../nn/dropout.js';
import { ElectraMaskedLM } from '../model/masked-lm.js';
import type { ParameterSet } from '../nn/params.js';
import { BertTokenizer, truncatePair, type Encoding, type Pieces, type TruncationStrategy } from '../tokenizer/tokenizer.js';
import { loadHfWeights, type HfRole } from './hf-weights.js';

/** One text, or a pair of texts (encoded [CLS] A [SEP] B [SEP]). */
export type TextInput = string | readonly [string, string] | { text: string; textPair?: string | null };

/** Token-level inputs as HF takes them: equal-length rows; attentionMask 1 = token, 0 = padding. */
export interface ModelInputs {
  inputIds: readonly ArrayLike<number>[];
  /** Default: 1 everywhere. */
  attentionMask?: readonly ArrayLike<number>[];
  /** Segment ids; default 0 everywhere. */
  tokenTypeIds?: readonly ArrayLike<number>[];
}

/** How text inputs are tokenized: truncation and the longest input. */
export interface TextOptions {
  /**
   * Cut inputs longer than maxLength (special tokens included) this way. Without it an input that
   * is too long is an error naming its length and the limit.
   */
  truncation?: TruncationStrategy;
  /** Default and upper bound: max_position_embeddings. */
  maxLength?: number;
}

/** Options of the inference models' predict: whether to return every layer's hidden states. */
export interface RunOptions {
  /** Also return HF's hidden_states: the embeddings output (projected to the hidden size) and every layer's output. */
  outputHiddenStates?: boolean;
}

/** A padded batch, [batch, seqLen] row-major. */
export interface PaddedBatch {
  batch: number;
  seqLen: number;
  inputIds: Int32Array;
  attentionMask: Int32Array;
  tokenTypeIds: Int32Array;
}

/** What every model run returns (arrays are copies; shapes row-major). */
export interface EncoderOutput {
  batch: number;
  seqLen: number;
  hiddenSize: number;
  /** The attention mask the batch ran with, [batch, seqLen]. */
  attentionMask: Int32Array;
  /** Last layer's hidden states, [batch, seqLen, hiddenSize]. */
  lastHiddenState: Float32Array;
  /** With outputHiddenStates: num_hidden_layers + 1 arrays of [batch, seqLen, hiddenSize]. */
  hiddenStates?: Float32Array[];
  /** The tokenization, for text inputs. */
  encodings?: Encoding[];
}

/** Discriminator.predict's output: replaced-token logits and probabilities per token, with the encoder outputs. */
export interface DiscriminatorBatchOutput extends EncoderOutput {
  /** Replaced-token logit per token, [batch, seqLen] (padding positions hold values too; read the mask). */
  logits: Float32Array;
  /** sigmoid(logits): the probability that each token was replaced, [batch, seqLen]. */
  probs: Float32Array;
}

/** MaskedLM.predict's output: vocabulary logits at the asked positions, with the encoder outputs. */
export interface MaskedLMOutput extends EncoderOutput {
  vocabSize: number;
  /** The flat positions (b * seqLen + p) the logits are for. */
  positions: Int32Array;
  /** Vocabulary logits at those positions, [positions.length, vocabSize]. */
  logits: Float32Array;
}

/** Backend and buffer sizes of an inference model (buffers grow past them as inputs need). */
export interface InferenceModelOptions {
  kernels?: Kernels;
  /**
   * "int8": dynamic quantization for inference: Linear weights int8 per output channel, each
   * row of activations quantized to u8 at run time, int32 sums; attention products, LayerNorm
   * and softmax stay fp32. Default: fp32.
   */
  quantize?: 'int8';
  /** Sequences run at once (longer batches run in chunks of this size; default 8). */
  maxBatch?: number;
  /** The sequence length the buffers start at (default 128); they grow up to max_position_embeddings. */
  maxSeqLen?: number;
}

/**
 * The kernels an inference model runs with: the given (or default) backend, in int8 with
 * quantize "int8". Every inference model (pre-trained or fine-tuned) picks its kernels here.
 */
export function inferenceKernels(options: { kernels?: Kernels; quantize?: 'int8' }): Kernels {
  if (options.quantize !== undefined && options.quantize !== 'int8') {
    throw new UsageError(`quantize must be "int8" or left out, got ${JSON.stringify(options.quantize)}`);
  }
  const base = options.kernels ?? defaultKernels();
  return options.quantize === 'int8' ? withPrecision(base, 'int8') : base;
}

/** The text of a TextInput: [text, pair or null]. */
export function textOf(input: TextInput): [string, string | null] {
  if (typeof input === 'string') return [input, null];
  if (Array.isArray(input)) return [input[0] as string, input[1] as string];
  const o = input as { text: string; textPair?: string | null };
  return [o.text, o.textPair ?? null];
}

/** HF's decode for BERT vocabularies: tokens joined, "##" pieces glued, clean_up_tokenization_spaces. */
export function decodeTokens(tokens: readonly string[]): string {
  return tokens.join(' ').replace(/ ##/g, '').trim()
    .replace(/ \./g, '.').replace(/ \?/g, '?').replace(/ !/g, '!').replace(/ ,/g, ',').replace(/ ' /g, "'")
    .replace(/ n't/g, "n't").replace(/ 'm/g, "'m").replace(/ 's/g, "'s").replace(/ 've/g, "'ve").replace(/ 're/g, "'re");
}

/**
 * The pieces of text with its special tokens ("[MASK]", "[SEP]", ... written literally, case as in
 * the vocabulary) kept whole, as HF's tokenizers do: the text between them is tokenized as usual.
 */
export function piecesWithSpecials(tokenizer: BertTokenizer, text: string): Pieces {
  const specials = [tokenizer.maskId, tokenizer.sepId, tokenizer.clsId, tokenizer.padId, tokenizer.unkId].map((id) => tokenizer.vocab.tokens[id]!);
  const pattern = new RegExp(specials.map((t) => t.replace(/[[\]\\^$.|?*+()]/g, '\\$&')).join('|'), 'g');
  if (!specials.some((t) => text.includes(t))) return tokenizer.pieces(text);
  const out: Pieces = { ids: [], starts: [], ends: [], words: [] };
  let from = 0;
  let fromCp = 0;
  let words = 0;
  const add = (segment: string): void => {
    const p = tokenizer.pieces(segment);
    for (let i = 0; i < p.ids.length; i++) {
      out.ids.push(p.ids[i]!);
      out.starts.push(fromCp + p.starts[i]!);
      out.ends.push(fromCp + p.ends[i]!);
      out.words.push(words + p.words[i]!);
    }
    if (p.ids.length > 0) words += p.words[p.words.length - 1]! + 1;
    fromCp += [...segment].length;
  };
  for (const m of text.matchAll(pattern)) {
    add(text.slice(from, m.index));
    const length = [...m[0]].length;
    out.ids.push(tokenizer.vocab.idOf(m[0])!);
    out.starts.push(fromCp);
    out.ends.push(fromCp + length);
    out.words.push(words++);
    fromCp += length;
    from = m.index! + m[0].length;
  }
  add(text.slice(from));
  return out;
}

/**
 * What the discriminator and the masked LM share: the folder's config and vocabulary, weights
 * loaded once into a model whose buffers grow, input checks, padding and tokenization.
 */
abstract class InferenceModel<M extends { params: ParameterSet }> {
  readonly tokenizer: BertTokenizer | null;
  protected readonly growing: GrowingModel<M>;
  readonly maxBatch: number;

  protected constructor(
    readonly config: ElectraConfig, readonly folder: LoadedModelFolder, role: HfRole,
    build: (k: Kernels, shape: InferenceShape) => M, options: InferenceModelOptions,
  ) {
    const k = inferenceKernels(options);
    this.maxBatch = Math.max(1, options.maxBatch ?? 8);
    this.growing = new GrowingModel((shape) => build(k, shape), { maxBatch: this.maxBatch, maxSeqLen: options.maxSeqLen ?? 128 }, config.max_position_embeddings);
    const report = loadHfWeights(this.growing.model.params, { [role]: folder });
    if (report.notLoaded.length > 0) throw new FormatError(folder.dir, `missing ${report.notLoaded.join(', ')}`);
    if (folder.vocab && folder.vocab.length !== config.vocab_size) {
      throw new FormatError(join(folder.dir, 'vocab.txt'), `has ${folder.vocab.length} tokens but config.json says vocab_size ${config.vocab_size}: the vocabulary is not this model's`);
    }
    this.tokenizer = folder.vocab ? BertTokenizer.fromVocab(folder.vocab, { lowerCase: folder.tokenizer?.do_lower_case ?? true }) : null;
  }

  /** The longest sequence the model takes (max_position_embeddings). */
  get maxLength(): number {
    return this.config.max_position_embeddings;
  }

  /** The current buffer shape (grows with the inputs). */
  get bufferShape(): { maxBatch: number; maxSeqLen: number } {
    return this.growing.shape;
  }

  /** Tokenizes texts with the model's vocabulary; too long without `truncation` is an InputError. */
  encode(texts: readonly TextInput[], options: TextOptions = {}): Encoding[] {
    if (!this.tokenizer) throw new UsageError(`${this.folder.dir} has no vocab.txt: pass token ids instead of text`);
    const limit = options.maxLength ?? this.maxLength;
    if (!Number.isInteger(limit) || limit < 2 || limit > this.maxLength) {
      throw new InputError(`maxLength ${limit} is outside [2, ${this.maxLength}] (max_position_embeddings)`);
    }
    return texts.map((input, i) => {
      const [a, b] = textOf(input);
      if (typeof a !== 'string' || (b !== null && typeof b !== 'string')) throw new InputError(`input ${i}: expected text (a string) or a pair of strings`);
      const tokenizer = this.tokenizer!;
      const pa = piecesWithSpecials(tokenizer, a);
      const pb = b === null ? null : piecesWithSpecials(tokenizer, b);
      if (options.truncation) truncatePair(pa, pb, limit - (pb ? 3 : 2), options.truncation);
      const enc = tokenizer.assemble(pa, pb);
      if (enc.ids.length > limit) {
        throw new InputError(`input ${i} has ${enc.ids.length} tokens; the model takes at most ${limit}${limit === this.maxLength ? ' (max_position_embeddings)' : ' (maxLength)'}: pass truncation "longest_first", "only_first" or "only_second" to cut it`);
      }
      return enc;
    });
  }

  /** Encodings padded into one batch (to the longest). */
  padEncodings(encodings: readonly Encoding[]): PaddedBatch {
    return this.pad({ inputIds: encodings.map((e) => e.ids), tokenTypeIds: encodings.map((e) => e.segmentIds) });
  }

  /** Checks HF-style inputs (equal rows, ids in the vocabulary, lengths within the limit) and packs them. */
  pad(inputs: ModelInputs): PaddedBatch {
    const rows = inputs.inputIds;
    const B = rows.length;
    if (B === 0) throw new InputError('no inputs');
    const S = Math.max(1, ...rows.map((r) => r.length));
    if (S > this.maxLength) throw new InputError(`a sequence has ${S} tokens; the model takes at most ${this.maxLength} (max_position_embeddings)`);
    const V = this.config.vocab_size;
    const types = this.config.type_vocab_size;
    const out: PaddedBatch = {
      batch: B, seqLen: S, inputIds: new Int32Array(B * S), attentionMask: new Int32Array(B * S), tokenTypeIds: new Int32Array(B * S),
    };
    for (let b = 0; b < B; b++) {
      const ids = rows[b]!;
      const mask = inputs.attentionMask?.[b];
      const segs = inputs.tokenTypeIds?.[b];
      if (mask && mask.length !== ids.length) throw new InputError(`sequence ${b}: ${ids.length} input ids but ${mask.length} attention mask values`);
      if (segs && segs.length !== ids.length) throw new InputError(`sequence ${b}: ${ids.length} input ids but ${segs.length} token type ids`);
      for (let p = 0; p < ids.length; p++) {
        const id = ids[p]!;
        if (!Number.isInteger(id) || id < 0 || id >= V) throw new InputError(`sequence ${b}, position ${p}: token id ${id} is outside the vocabulary [0, ${V})`);
        const seg = segs?.[p] ?? 0;
        if (!Number.isInteger(seg) || seg < 0 || seg >= types) throw new InputError(`sequence ${b}, position ${p}: token type id ${seg} is outside [0, ${types})`);
        const m = mask?.[p] ?? 1;
        if (m !== 0 && m !== 1) throw new InputError(`sequence ${b}, position ${p}: attention mask value ${m} is not 0 or 1`);
        out.inputIds[b * S + p] = id;
        out.tokenTypeIds[b * S + p] = seg;
        out.attentionMask[b * S + p] = m;
      }
    }
    return out;
  }

  /**
   * Runs the batch in chunks of maxBatch rows: `each(model, start, rows)` runs one chunk (rows
   * start.. of the batch) and copies what it needs; hidden states are gathered here.
   */
  protected runChunks(
    batch: PaddedBatch, options: RunOptions,
    each: (model: M, ids: Int32Array, segs: Int32Array, mask: Int32Array, start: number, rows: number) => void,
    states: (model: M) => Float32Array[],
  ): EncoderOutput {
    const { batch: B, seqLen: S } = batch;
    const H = this.config.hidden_size;
    const lastHiddenState = new Float32Array(B * S * H);
    const hiddenStates = options.outputHiddenStates ? Array.from({ length: this.config.num_hidden_layers + 1 }, () => new Float32Array(B * S * H)) : undefined;
    for (let start = 0; start < B; start += this.maxBatch) {
      const rows = Math.min(this.maxBatch, B - start);
      const model = this.growing.fit(rows, S);
      const from = start * S;
      const to = (start + rows) * S;
      each(model, batch.inputIds.subarray(from, to), batch.tokenTypeIds.subarray(from, to), batch.attentionMask.subarray(from, to), start, rows);
      const all = states(model);
      lastHiddenState.set(all[all.length - 1]!.subarray(0, rows * S * H), from * H);
      if (hiddenStates) all.forEach((h, i) => hiddenStates[i]!.set(h.subarray(0, rows * S * H), from * H));
    }
    const out: EncoderOutput = { batch: B, seqLen: S, hiddenSize: H, attentionMask: batch.attentionMask.slice(), lastHiddenState };
    if (hiddenStates) out.hiddenStates = hiddenStates;
    return out;
  }
}

/** The discriminator's view of one sequence (no padding). */
export interface DiscriminatorResult {
  /** P(token was replaced) per token. */
  probs: Float32Array;
  logits: Float32Array;
  /** Last-layer hidden states, [length, hiddenSize] row-major. */
  hidden: Float32Array;
  hiddenSize: number;
}

/** Options of Discriminator.discriminate: segment ids. */
export interface DiscriminateOptions {
  /** Segment (token type) ids per sequence; default all 0. */
  segmentIds?: ArrayLike<number>[];
}

/** A pre-trained discriminator (ElectraForPreTraining): replaced-token detection and features. */
export class Discriminator extends InferenceModel<ElectraDiscriminator> {
  constructor(config: ElectraConfig, folder: LoadedModelFolder, options: InferenceModelOptions = {}) {
    super(config, folder, 'discriminator', (k, shape) => new ElectraDiscriminator(k, config, shape), options);
  }

  /** The model as built now (its buffers are replaced when inputs outgrow them). */
  get model(): ElectraDiscriminator {
    return this.growing.model;
  }

  /** Runs HF-style inputs (padded rows with an attention mask). */
  predict(inputs: ModelInputs, options: RunOptions = {}): DiscriminatorBatchOutput {
    const batch = this.pad(inputs);
    const S = batch.seqLen;
    const logits = new Float32Array(batch.batch * S);
    const probs = new Float32Array(batch.batch * S);
    const out = this.runChunks(batch, options, (model, ids, segs, mask, start, rows) => {
      const r = model.forward(ids, segs, mask, rows, S);
      logits.set(r.logits, start * S);
      probs.set(r.probs, start * S);
    }, (model) => model.allHiddenStates());
    return { ...out, logits, probs };
  }

  /** Tokenizes texts (or pairs) with the model's vocabulary, pads them into one batch and runs it. */
  predictText(texts: readonly TextInput[], options: TextOptions & RunOptions = {}): DiscriminatorBatchOutput & { encodings: Encoding[] } {
    const encodings = this.encode(texts, options);
    return { ...this.predict({ inputIds: encodings.map((e) => e.ids), tokenTypeIds: encodings.map((e) => e.segmentIds) }, options), encodings };
  }

  /** Runs token-id sequences (each with its own [CLS] ... [SEP]); one unpadded result each. */
  discriminate(sequences: ArrayLike<number>[], options: DiscriminateOptions = {}): DiscriminatorResult[] {
    if (sequences.length === 0) return [];
    const r = this.predict({ inputIds: sequences, ...(options.segmentIds ? { tokenTypeIds: options.segmentIds } : {}) });
    const S = r.seqLen;
    const H = r.hiddenSize;
    return sequences.map((seq, b) => ({
      probs: r.probs.slice(b * S, b * S + seq.length),
      logits: r.logits.slice(b * S, b * S + seq.length),
      hidden: r.lastHiddenState.slice(b * S * H, (b * S + seq.length) * H),
      hiddenSize: H,
    }));
  }

  /** One text (or pair) through the model's vocabulary: ([CLS] text [SEP]); too long is an error unless `truncation` is given. */
  discriminateText(text: TextInput, options: TextOptions = {}): DiscriminatorResult & { tokens: string[]; ids: number[] } {
    const [enc] = this.encode([text], options);
    const [r] = this.discriminate([enc!.ids], { segmentIds: [enc!.segmentIds] });
    return { ...r!, tokens: enc!.tokens, ids: enc!.ids };
  }
}

/** One candidate for a [MASK], as HF's fill-mask pipeline gives it. */
export interface FillMaskCandidate {
  /** Softmax probability of the token at that position. */
  score: number;
  token: number;
  token_str: string;
  /** The input with this token in place of the [MASK] (decoded as HF does). */
  sequence: string;
}

/** Options of MaskedLM.fillMask: candidates per [MASK], and the text options. */
export interface FillMaskOptions extends TextOptions {
  /** Candidates per [MASK] (default 5). */
  topK?: number;
}

/**
 * HF's fill-mask result for one input: the candidates when it has one [MASK], else one list per
 * [MASK] (in order).
 */
export type FillMaskResult = FillMaskCandidate[] | FillMaskCandidate[][];

/** A pre-trained generator or masked LM (ElectraForMaskedLM): vocabulary logits and fill-mask. */
export class MaskedLM extends InferenceModel<ElectraMaskedLM> {
  constructor(config: ElectraConfig, folder: LoadedModelFolder, options: InferenceModelOptions = {}) {
    super(config, folder, 'generator', (k, shape) => new ElectraMaskedLM(k, config, shape), options);
  }

  get model(): ElectraMaskedLM {
    return this.growing.model;
  }

  /**
   * Vocabulary logits at the given flat positions (b * seqLen + p; default: every position of the
   * padded batch, [batch * seqLen, vocab] as HF's logits).
   */
  predict(inputs: ModelInputs, options: RunOptions & { positions?: ArrayLike<number> } = {}): MaskedLMOutput {
    const batch = this.pad(inputs);
    const S = batch.seqLen;
    const V = this.config.vocab_size;
    const positions = options.positions ? Int32Array.from(options.positions) : Int32Array.from({ length: batch.batch * S }, (_, i) => i);
    for (const p of positions) if (!Number.isInteger(p) || p < 0 || p >= batch.batch * S) throw new InputError(`position ${p} is outside the batch [0, ${batch.batch * S})`);
    const logits = new Float32Array(positions.length * V);
    const out = this.runChunks(batch, options, (model, ids, segs, mask, start, rows) => {
      // The positions in this chunk, relative to it, and where their logits go.
      const at: number[] = [];
      const local: number[] = [];
      positions.forEach((p, i) => {
        if (p >= start * S && p < (start + rows) * S) {
          at.push(i);
          local.push(p - start * S);
        }
      });
      if (local.length === 0) {
        model.body.forward(ids, segs, mask, rows, S, NO_DROPOUT);
        return;
      }
      const chunk = new Float32Array(local.length * V);
      model.forward(ids, segs, mask, rows, S, Int32Array.from(local), chunk);
      at.forEach((i, j) => logits.set(chunk.subarray(j * V, (j + 1) * V), i * V));
    }, (model) => model.allHiddenStates());
    return { ...out, vocabSize: V, positions, logits };
  }

  /** The k most likely tokens at each [MASK] of each text, as HF's fill-mask pipeline returns them. */
  fillMaskBatch(texts: readonly TextInput[], options: FillMaskOptions = {}): FillMaskResult[] {
    return this.fillMaskEncoded(this.encode(texts, options), options.topK);
  }

  /** fillMaskBatch on texts already encoded (by encode()). */
  fillMaskEncoded(encodings: readonly Encoding[], topK = 5): FillMaskResult[] {
    if (!Number.isInteger(topK) || topK < 1) throw new InputError(`topK must be a positive integer, not ${topK}`);
    if (encodings.length === 0) return [];
    const tokenizer = this.tokenizer!;
    const maskId = tokenizer.maskId;
    const batch = this.padEncodings(encodings);
    const S = batch.seqLen;
    const positions: number[] = [];
    encodings.forEach((e, b) => {
      const before = positions.length;
      e.ids.forEach((id, p) => { if (id === maskId) positions.push(b * S + p); });
      if (positions.length === before) throw new InputError(`input ${b} has no [MASK] token to fill`);
    });
    const { logits } = this.predict(batch2inputs(batch), { positions });
    const V = this.config.vocab_size;
    const vocab = tokenizer.vocab.tokens;
    const special = new Set([tokenizer.padId, tokenizer.unkId, tokenizer.clsId, tokenizer.sepId, tokenizer.maskId]);
    let row = 0;
    return encodings.map((e) => {
      const masks = e.ids.flatMap((id, p) => (id === maskId ? [p] : []));
      const single = masks.length === 1;
      const lists = masks.map((p) => {
        const top = topKSoftmax(logits.subarray(row * V, (row + 1) * V), topK);
        row++;
        return top.map(({ id, prob }) => {
          const ids = e.ids.slice();
          ids[p] = id;
          // HF drops special tokens from the sequence only when the input has a single [MASK].
          const kept = single ? ids.filter((t) => !special.has(t)) : ids;
          return { score: prob, token: id, token_str: decodeTokens([vocab[id]!]), sequence: decodeTokens(kept.map((t) => vocab[t]!)) };
        });
      });
      return single ? lists[0]! : lists;
    });
  }

  /** fillMask for one text (or pair): see fillMaskBatch. */
  fillMask(text: TextInput, options: FillMaskOptions = {}): FillMaskResult {
    return this.fillMaskBatch([text], options)[0]!;
  }
}

function batch2inputs(b: PaddedBatch): ModelInputs {
  const rows = (a: Int32Array): Int32Array[] => Array.from({ length: b.batch }, (_, i) => a.subarray(i * b.seqLen, (i + 1) * b.seqLen));
  return { inputIds: rows(b.inputIds), attentionMask: rows(b.attentionMask), tokenTypeIds: rows(b.tokenTypeIds) };
}

/** The k largest softmax probabilities of a logit row (float64 softmax; ties: the lower id first). */
export function topKSoftmax(logits: ArrayLike<number>, k: number): { id: number; prob: number }[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  const best: number[] = [];
  for (let i = 0; i < logits.length; i++) {
    if (best.length === k && logits[i]! <= logits[best[k - 1]!]!) continue;
    let at = best.length;
    while (at > 0 && logits[best[at - 1]!]! < logits[i]!) at--;
    best.splice(at, 0, i);
    if (best.length > k) best.pop();
  }
  return best.map((id) => ({ id, prob: Math.exp(logits[id]! - max) / sum }));
}
