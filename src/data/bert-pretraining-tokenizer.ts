// The builder's default tokenizer module: BERT WordPiece from the vocab file (loaded in each worker).
import { BertTokenizer, Vocab } from '../tokenizer/index.js';
import type { PretrainingTokenizer, PretrainingVocabulary, TokenizerSettings } from './build-job.js';

export function createPretrainingTokenizer(settings: TokenizerSettings): PretrainingTokenizer {
  // The reference's BasicTokenizer strips accents only while lower-casing.
  return BertTokenizer.fromVocabFile(settings.vocabFile, {
    lowerCase: settings.lowerCase,
    stripAccents: settings.lowerCase && settings.stripAccents,
  });
}

export function loadPretrainingVocabulary(settings: TokenizerSettings): PretrainingVocabulary {
  const vocab = Vocab.fromFile(settings.vocabFile);
  // Vocab guarantees the special tokens exist.
  return { tokens: vocab.tokens, clsId: vocab.idOf('[CLS]')!, sepId: vocab.idOf('[SEP]')! };
}
