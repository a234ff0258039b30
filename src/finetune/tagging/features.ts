// Tagging features as the reference's TaggingTask.featurize: each word's WordPiece tokens in
// order, the label on its first sub-token (the others carry none).
import type { BertTokenizer } from '../../tokenizer/index.js';
import type { EncodedInput } from '../features/batch.js';

export interface TaggingExample {
  taskName: string;
  eid: number;
  words: readonly string[];
  /** Label id per word. */
  labels: readonly number[];
}

export interface TaggingFeatures extends EncodedInput {
  eid: number;
  /** Input position of each tagged word's first sub-token. */
  labeledPositions: number[];
  /** Label id per tagged word (words cut off by truncation are dropped). */
  labels: number[];
  /** The example's word this feature's first tagged word is (absent: 0, not split into windows). */
  firstWord?: number;
}

/**
 * [CLS] word tokens... [SEP]. Truncation follows the reference: before adding a word it stops
 * (closing with [SEP]) once words + tokens so far + 1 would pass max_seq_length, which keeps
 * roughly one slot per word in reserve; it also stops where the word itself would not fit
 * (where the reference would fail an assertion). Segment ids are all 1, as the reference sets them.
 */
export function featurizeTagging(tokenizer: BertTokenizer, example: TaggingExample, maxSeqLength: number): TaggingFeatures {
  if (example.labels.length !== example.words.length) {
    throw new Error(`${example.taskName} example ${example.eid}: ${example.words.length} words but ${example.labels.length} labels`);
  }
  const wordCount = example.words.length + 2; // with [CLS] and [SEP], as the reference counts
  const inputIds = [tokenizer.clsId];
  const labeledPositions: number[] = [];
  for (const word of example.words) {
    const pieces = tokenizer.pieces(word).ids;
    if (wordCount + inputIds.length + 1 > maxSeqLength || inputIds.length + pieces.length + 1 > maxSeqLength) break;
    // A word with no tokens (e.g. only control characters) points at the next token, as in the reference.
    labeledPositions.push(inputIds.length);
    inputIds.push(...pieces);
  }
  inputIds.push(tokenizer.sepId);
  return {
    eid: example.eid,
    inputIds,
    segmentIds: inputIds.map(() => 1),
    labeledPositions,
    labels: example.labels.slice(0, labeledPositions.length),
  };
}

/**
 * A long sentence split into consecutive windows instead of cut: each window takes words while
 * their tokens fit between [CLS] and [SEP], so every word is tagged (and scored) exactly once;
 * a word longer than a whole window keeps its first tokens.
 */
export function featurizeTaggingWindows(tokenizer: BertTokenizer, example: TaggingExample, maxSeqLength: number): TaggingFeatures[] {
  if (example.labels.length !== example.words.length) {
    throw new Error(`${example.taskName} example ${example.eid}: ${example.words.length} words but ${example.labels.length} labels`);
  }
  const room = maxSeqLength - 2;
  const windows: TaggingFeatures[] = [];
  let ids: number[] = [];
  let positions: number[] = [];
  let firstWord = 0;
  const close = (): void => {
    if (positions.length === 0) return;
    const inputIds = [tokenizer.clsId, ...ids, tokenizer.sepId];
    windows.push({
      eid: example.eid, inputIds, segmentIds: inputIds.map(() => 1), labeledPositions: positions,
      labels: example.labels.slice(firstWord, firstWord + positions.length), firstWord,
    });
    ids = [];
    positions = [];
  };
  example.words.forEach((word, i) => {
    const pieces = tokenizer.pieces(word).ids.slice(0, room);
    if (ids.length + pieces.length > room) close();
    if (positions.length === 0) firstWord = i;
    positions.push(ids.length + 1);
    ids.push(...pieces);
  });
  close();
  if (windows.length === 0) windows.push({ eid: example.eid, inputIds: [tokenizer.clsId, tokenizer.sepId], segmentIds: [1, 1], labeledPositions: [], labels: [], firstWord: 0 });
  return windows;
}
