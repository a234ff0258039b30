// `electra-ts/internal`: the building blocks under the public API (src/index.ts): kernels,
// file-format pieces, data and training internals. For tools and experiments; names and
// signatures here may change in any release.
export { kernels, nativeKernels, jsKernels, backendReport } from './kernels/index.js';
export type { Kernels, GemmArgs, BatchedGemmArgs, AdamWOptions, BackendReport } from './kernels/index.js';

// Model files: safetensors, PyTorch state dicts, TF TensorBundle checkpoints, HF model folders.
export { FormatError, UsageError, InputError } from './errors.js';
export type { Tensor, TensorMap } from './io/tensor.js';
export { transpose2d } from './io/tensor.js';
export {
  readSafetensors, writeSafetensors, encodeSafetensors, decodeSafetensors, parseSafetensorsHeader,
} from './io/safetensors.js';
export type { SafetensorsContents, SafetensorsEntry, SafetensorsHeader } from './io/safetensors.js';
export {
  readShardIndex, readShardedSafetensors, writeSafetensorsWeights, planShards, DEFAULT_MAX_SHARD_BYTES,
} from './io/sharded.js';
export type { ShardIndex } from './io/sharded.js';
export { readTorchStateDict } from './io/torch.js';
export type { TorchStateDict } from './io/torch.js';
export { TfCheckpoint, readTfCheckpoint, resolveTfCheckpointPrefix } from './io/tf-checkpoint.js';
export type { TfTensorEntry, TfBundleHeader } from './io/tf-checkpoint.js';
export {
  ELECTRA_ARCHITECTURES, defaultElectraConfig, parseElectraConfig, electraConfigToJson, electraConfigText, numLabels,
  defaultLabels, isElectraArchitecture,
} from './io/hf-config.js';
export type { ElectraConfig, ElectraArchitecture } from './io/hf-config.js';
export {
  electraTensorSpec, electraBaseSpec, electraHeadSpec, checkTensors, assertTensorsMatch, describeProblems, inferArchitecture,
} from './io/electra-names.js';
export type { TensorSpec, TensorProblems } from './io/electra-names.js';
export { readHfFolder, writeHfFolder, readVocabFile, canonicalTensorName, stateDictKey } from './io/hf-folder.js';
export type { ModelFolder, LoadedModelFolder, TokenizerSettings, ReadHfFolderOptions, WriteHfFolderOptions } from './io/hf-folder.js';
export { convertTfCheckpoint, mapTfVariable, inferElectraConfig } from './io/tf-electra.js';
export type { ElectraRole, TfConvertOptions, TfConvertResult } from './io/tf-electra.js';

// Tokenizer: BERT WordPiece with offsets, vocabulary training.
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

// Fine-tuning: tasks, data readers, featurisation, scorers, QA post-processing, hparams.
export * from './finetune/index.js';

// Pre-training: hparams, the training loop, checkpoints, eval metrics, loading and inference.
export {
  parsePretrainingHparams, resolvePretrainingHparams, readHparamsArgument as readPretrainingHparamsArgument,
} from './pretrain/hparams.js';
export type { PretrainingHparams, ResolvedPretrainingHparams } from './pretrain/hparams.js';
export { runPretraining, evaluate as evaluatePretraining, checkRunInputs, NonFiniteLossError, METRICS_FILE } from './pretrain/run.js';
export type { RunPretrainingOptions, RunPretrainingResult, StepLog, RunContext, EvalExtras } from './pretrain/run.js';
export {
  writeCheckpoint, restoreCheckpoint, listCheckpoints, latestCheckpoint, readTrainingState, readCheckpointFolders,
  checkpointDirName, STATE_FILE, OPTIMIZER_FILE,
} from './pretrain/checkpoint.js';
export type { TrainingState, CheckpointInfo, WriteCheckpointOptions } from './pretrain/checkpoint.js';
export { EvalAccumulator, StreamingAuc, aucThresholds, formatEvalResults, rocAuc } from './pretrain/eval-metrics.js';
export type { PretrainingEvalResults } from './pretrain/eval-metrics.js';
export {
  loadPretrainingModel, loadDiscriminator, loadMaskedLM, readPretrainedFolders, loadInitCheckpoint, pretrainingConfigFor,
} from './pretrain/load.js';
export type {
  LoadedPretrainingModel, LoadPretrainingModelOptions, LoadDiscriminatorOptions, LoadMaskedLMOptions, PretrainedFolders,
} from './pretrain/load.js';
export { Discriminator, MaskedLM, decodeTokens, topKSoftmax } from './pretrain/inference.js';
export type {
  DiscriminateOptions, DiscriminatorResult, DiscriminatorBatchOutput, MaskedLMOutput, EncoderOutput, ModelInputs, PaddedBatch,
  TextInput, TextOptions, RunOptions, InferenceModelOptions, FillMaskCandidate, FillMaskOptions, FillMaskResult,
} from './pretrain/inference.js';
export { discriminatorPredictor, fillMaskPredictor, textRecord, runByLength } from './pretrain/predictor.js';
export type { Predictor, ReplacedTokenResult, TextPredictorOptions } from './pretrain/predictor.js';
export { startServer } from './serve/server.js';
export type { ServeOptions, ModelServer, ServerStats } from './serve/server.js';
export { openPredictor, PREDICTOR_KINDS } from './serve/predictors.js';
export type { OpenPredictorOptions, PredictorKind } from './serve/predictors.js';
export { hfConfigFor, hfTensors, loadHfWeights } from './pretrain/hf-weights.js';
export type { HfRole, LoadReport } from './pretrain/hf-weights.js';
export { Pretrainer } from './pretrain/pretrainer.js';
export type { PretrainerOptions, TrainStepReport } from './pretrain/pretrainer.js';
export { resolvePretrainingConfig, discriminatorConfig, generatorConfig, hfConfigFromModel, modelConfigFromHf } from './model/config.js';
export type { PretrainingConfig, ModelSize, ModelHparamOverrides } from './model/config.js';
export { ElectraPretrainingModel } from './model/pretraining-model.js';
export type { PretrainingInputs, PretrainingMetrics } from './model/pretraining-model.js';

// Pre-training data: corpus export, dataset builder, shards, reader.
export { buildPretrainingDataset, resolveBuildConfig, listCorpusFiles, BuildInterruptedError, BUILD_DEFAULTS } from './data/build.js';
export type { BuildConfig, BuildOptions, BuildProgress, BuildResult } from './data/build.js';
export type { PretrainingTokenizer, TokenizerSettings as PretrainingTokenizerSettings, JobStats } from './data/build-job.js';
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

// The demo: corpus -> vocabulary -> dataset -> pre-training -> fine-tuning -> results table and report.
export * from './demo/index.js';

// Reference formats: TF checkpoints written, TFRecords, OpenWebText archives.
export { electraToTfVariables, tfVariableFor } from './io/tf-electra.js';
export { writeTfCheckpoint } from './io/tf-checkpoint-writer.js';
export type { TfWriteTensor } from './io/tf-checkpoint-writer.js';
export { prepareTfCheckpointFolders, findTfCheckpoint } from './io/tf-release.js';
export { scanTfRecords, frameTfRecord, encodeInt64Example, decodeInt64Example } from './io/tfrecord.js';
export { TfRecordShardReader, TfRecordShardWriter, tfrecordFileName } from './data/tfrecord-shards.js';
export { resolvePretrainingInputs } from './data/pretraining-inputs.js';
export { buildOpenWebTextDataset } from './data/openwebtext.js';
export type { OpenWebTextConfig, OpenWebTextOptions } from './data/openwebtext.js';
