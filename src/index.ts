// Public library API.
export { kernels, nativeKernels, jsKernels } from './kernels/index.js';
export type { Kernels, GemmArgs, BatchedGemmArgs, AdamWOptions } from './kernels/index.js';
export { BertTokenizer, Vocab, WordPiece, SPECIAL_TOKENS, truncatePair, bertUncasedVocab, bertUncasedVocabText } from './tokenizer/index.js';
export type { BertTokenizerOptions, EncodeOptions, Encoding, Pieces, TruncationStrategy, SpecialToken, WordPieceOptions } from './tokenizer/index.js';
