// Public library API.
export { kernels, nativeKernels, jsKernels } from './kernels/index.js';
export type { Kernels, GemmArgs, BatchedGemmArgs, AdamWOptions } from './kernels/index.js';
export {
  BertTokenizer, BasicTokenizer, Vocab, WordPiece, SPECIAL_TOKENS, truncatePair, bertUncasedVocab, bertUncasedVocabText,
  WordCounter, trainWordPiece, trainVocabFromDirectory, TokenizerPool,
} from './tokenizer/index.js';
export type {
  BertTokenizerOptions, EncodeOptions, Encoding, Pieces, TruncationStrategy, SpecialToken, WordPieceOptions, TrainerOptions,
  TokenizerPoolOptions, EncodedBatch,
} from './tokenizer/index.js';
export { Progress } from './util/progress.js';
export type { ProgressOptions } from './util/progress.js';
