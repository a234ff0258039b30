// Multiple-choice features: one [CLS] context [SEP] question choice [SEP] sequence per choice, cut
// longest-first to max_seq_length, as transformers' multiple-choice examples build them.
import { truncatePair, type BertTokenizer } from '../../tokenizer/index.js';
import type { EncodedInput } from '../features/batch.js';
import type { ChoiceExample } from './data.js';

export interface ChoiceFeatures {
  eid: number;
  id: string;
  choices: EncodedInput[];
  /** The right choice (-1 where the example has none). */
  label: number;
}

export function featurizeChoices(tokenizer: BertTokenizer, example: ChoiceExample, maxSeqLength: number): ChoiceFeatures {
  const choices = example.choices.map((choice) => {
    const a = tokenizer.pieces(example.context);
    const b = tokenizer.pieces(example.question === '' ? choice : `${example.question} ${choice}`);
    truncatePair(a, b, maxSeqLength - 3, 'longest_first');
    const encoding = tokenizer.assemble(a, b);
    return { inputIds: encoding.ids, segmentIds: encoding.segmentIds };
  });
  return { eid: example.eid, id: example.id, choices, label: example.label ?? -1 };
}
