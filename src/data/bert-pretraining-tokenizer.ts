// The builder's default tokenizer module: BERT WordPiece from the vocab file (loaded in each worker).
import { BertTokenizer } from '../tokenizer/index.js';
import type { PretrainingTokenizer, TokenizerSettings } from './build-job.js';

export function createPretrainingTokenizer(settings: TokenizerSettings): PretrainingTokenizer {
  // The reference's BasicTokenizer strips accents only while lower-casing.
  return BertTokenizer.fromVocabFile(settings.vocabFile, {
    lowerCase: settings.lowerCase,
    stripAccents: settings.lowerCase && settings.stripAccents,
  });
}
