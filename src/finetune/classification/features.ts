// [CLS] A [SEP] (B [SEP]) features for classification and regression, as the reference's
// SingleOutputTask.featurize builds them.
import type { BertTokenizer } from '../../tokenizer/index.js';
import { truncatePair } from '../../tokenizer/index.js';
import type { SentenceExample, LabelSpec } from './data.js';
import type { EncodedInput } from '../features/batch.js';

export interface SentenceFeatures extends EncodedInput {
  eid: number;
  /** Label id (classification) or normalised target (regression). */
  label: number;
  /** Tokens cut to fit max_seq_length (for the data summary). */
  truncatedTokens: number;
}

/**
 * Tokenises A (and B if it is non-empty and yields tokens, as the reference tests `if tokens_b`),
 * truncates longest-first to max_seq_length - 3 (a pair) or cuts A to max_seq_length - 2, and
 * maps the label: its index in the label list, or (target - min) / (max - min).
 */
export function featurizeSentence(
  tokenizer: BertTokenizer, example: SentenceExample, labels: LabelSpec, maxSeqLength: number,
): SentenceFeatures {
  const a = tokenizer.pieces(example.textA);
  let b = example.textB ? tokenizer.pieces(example.textB) : null;
  if (b && b.ids.length === 0) b = null;
  const before = a.ids.length + (b?.ids.length ?? 0);
  truncatePair(a, b, maxSeqLength - (b ? 3 : 2), 'longest_first');
  const encoding = tokenizer.assemble(a, b);
  return {
    eid: example.eid, inputIds: encoding.ids, segmentIds: encoding.segmentIds, label: labelValue(example, labels),
    truncatedTokens: before - a.ids.length - (b?.ids.length ?? 0),
  };
}

export function labelValue(example: SentenceExample, labels: LabelSpec): number {
  if (labels.type === 'classification') {
    const id = labels.labels.indexOf(String(example.label));
    if (id < 0) throw new Error(`${example.taskName} example ${example.eid}: label ${JSON.stringify(example.label)} is not in the label list`);
    return id;
  }
  const target = Number(example.label);
  if (!(target >= labels.min && target <= labels.max)) {
    throw new Error(`${example.taskName} example ${example.eid}: target ${example.label} is outside [${labels.min}, ${labels.max}]`);
  }
  // The reference divides by max_value (its only regression task, STS-B, has min 0).
  return (target - labels.min) / (labels.max - labels.min);
}
