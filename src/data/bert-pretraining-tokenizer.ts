// The builder's default tokenizer module: BERT WordPiece from the vocab file. The main thread loads it
// once (shareTokenizer) and each worker rebuilds it from that data at no cost (tries in shared memory).
import { BertTokenizer, type BertTokenizerData } from '../tokenizer/tokenizer.js';
import type { PretrainingTokenizer, PretrainingVocabulary, SharedTokenizer, TokenizerSettings } from './build-job.js';

export function createPretrainingTokenizer(settings: TokenizerSettings, shared?: unknown): PretrainingTokenizer {
  if (shared !== undefined) return BertTokenizer.fromData(shared as BertTokenizerData);
  // The reference's BasicTokenizer strips accents only while lower-casing.
  return BertTokenizer.fromVocabFile(settings.vocabFile, {
    lowerCase: settings.lowerCase,
    stripAccents: settings.lowerCase && settings.stripAccents,
  });
}

export function shareTokenizer(settings: TokenizerSettings): SharedTokenizer {
  const tokenizer = createPretrainingTokenizer(settings) as BertTokenizer;
  return { vocabulary: { tokens: tokenizer.vocab.tokens, clsId: tokenizer.clsId, sepId: tokenizer.sepId }, shared: tokenizer.toData() };
}
