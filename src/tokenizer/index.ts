// Public tokenizer API: BERT WordPiece (HF-identical), vocabularies, the vocab trainer.
export { BertTokenizer, truncatePair } from './tokenizer.js';
export type { BertTokenizerData, BertTokenizerOptions, EncodeOptions, Encoding, Pieces, TruncationStrategy } from './tokenizer.js';
export { Vocab, SPECIAL_TOKENS } from './vocab.js';
export type { SpecialToken } from './vocab.js';
export { PieceTrie, WordPiece } from './wordpiece.js';
export { BasicTokenizer } from './basic.js';
export type { BasicTokenizerOptions, NormalizedWord, WordVisitor } from './basic.js';
export type { PieceTrieArrays, WordPieceOptions } from './wordpiece.js';
export { bertUncasedVocab, bertUncasedVocabText } from './bert-vocab.js';
export { WordCounter, countFiles, listCorpusFiles, trainWordPiece, trainVocabFromDirectory } from './trainer.js';
export type { TrainerOptions } from './trainer.js';
export { TokenizerPool } from './pool.js';
export type { TokenizerPoolOptions, EncodedBatch } from './pool.js';
