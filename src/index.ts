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
export { buildPretrainingDataset, resolveBuildConfig, listCorpusFiles, BuildInterruptedError, BUILD_DEFAULTS } from './data/build.js';
export type { BuildConfig, BuildOptions, BuildProgress, BuildResult } from './data/build.js';
export type { PretrainingTokenizer, TokenizerSettings, JobStats } from './data/build-job.js';
export { openPretrainingDataset, PretrainingDataset, FeistelPermutation } from './data/pretraining-dataset.js';
export type { OpenPretrainingDatasetOptions, PretrainingDatasetState, PretrainingBatch, DatasetExample } from './data/pretraining-dataset.js';
export { readManifest, vocabHash, MANIFEST_FILE } from './data/manifest.js';
export type { PretrainingManifest } from './data/manifest.js';
export { ShardReader, ShardWriter, readShardHeader, shardFileName } from './data/shards.js';
export type { ShardHeader, StoredExample } from './data/shards.js';
export { ExampleBuilder } from './data/example-builder.js';
export type { BuiltExample, ExampleBuilderStats } from './data/example-builder.js';
export { PythonRandom } from './data/python-random.js';
export { forEachLine, pythonStrip, CorpusFileError } from './data/text-lines.js';
export { exportCorpus, writeDocuments, splitSentences } from './data/corpus-export.js';
export { readCorpus, readBrown, readSotu, readMobyDick, corpusNames } from './data/corpora.js';
export type { CorpusName, TextDocument, BrownDocument, BrownSentence } from './data/corpora.js';
