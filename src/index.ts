// The public API of `electra-ts`: what docs/api.md lists, covered by semver. Everything else
// (layers, kernels, file-format pieces, data internals) is reachable as `electra-ts/internal`
// (src/internal.ts), without any stability promise. test/package/api.test.ts keeps this file,
// docs/api.md and the declarations' TSDoc in step.

// Which compute backend runs, and why.
export { backendReport } from './kernels/index.js';
export type { BackendReport } from './kernels/index.js';

// Errors a caller can act on: bad files (FormatError) and bad arguments or settings (UsageError).
export { FormatError, UsageError, InputError } from './errors.js';

// Tokenize: BERT WordPiece with offsets; vocabularies.
export { BertTokenizer, TokenizerPool, bertUncasedVocab, bertUncasedVocabText, trainVocabFromDirectory } from './tokenizer/index.js';
export type {
  BertTokenizerOptions, EncodeOptions, Encoding, EncodedBatch, TokenizerPoolOptions, TrainerOptions,
} from './tokenizer/index.js';
export { readVocabFile } from './io/hf-folder.js';

// Load and run models: fine-tuned models (classify, score, tag, answer) and discriminators.
export { FinetunedModel, loadFinetuned } from './finetune/index.js';
export type { LoadFinetunedOptions, Classification, TaggedWord, Answer, Choice, PreparedInput, PrepareOptions } from './finetune/index.js';
export { loadDiscriminator, loadMaskedLM } from './pretrain/load.js';
export type { LoadDiscriminatorOptions, LoadMaskedLMOptions } from './pretrain/load.js';
export type {
  Discriminator, MaskedLM, DiscriminateOptions, DiscriminatorResult, DiscriminatorBatchOutput, MaskedLMOutput, EncoderOutput,
  ModelInputs, PaddedBatch, TextInput, TextOptions, RunOptions, InferenceModelOptions, FillMaskCandidate, FillMaskOptions,
  FillMaskResult,
} from './pretrain/inference.js';

// Serve: predictions over HTTP with dynamic batching.
export { startServer } from './serve/server.js';
export type { ServeOptions, ModelServer, ServerStats } from './serve/server.js';
export { openPredictor } from './serve/predictors.js';
export type { OpenPredictorOptions, PredictorKind } from './serve/predictors.js';
export { discriminatorPredictor, fillMaskPredictor } from './pretrain/predictor.js';
export { finetunedPredictor } from './finetune/predictor.js';
export type { FinetunedPredictorOptions } from './finetune/predictor.js';
export type { Predictor, TextPredictorOptions, ReplacedTokenResult } from './pretrain/predictor.js';

// Model files: HF folders, safetensors, PyTorch state dicts, Google's TF checkpoints.
export { readHfFolder, writeHfFolder } from './io/hf-folder.js';
export type { ModelFolder, LoadedModelFolder, ReadHfFolderOptions, WriteHfFolderOptions } from './io/hf-folder.js';
export { readSafetensors, writeSafetensors } from './io/safetensors.js';
export type { SafetensorsContents, ReadTensorsOptions } from './io/safetensors.js';
export { readTorchStateDict } from './io/torch.js';
export type { TorchStateDict } from './io/torch.js';
export { convertTfCheckpoint } from './io/tf-electra.js';
export type { TfConvertOptions, TfConvertResult } from './io/tf-electra.js';
export type { Tensor, TensorMap } from './io/tensor.js';

// Pre-training data: shipped corpora, corpus export, the dataset builder and reader.
export { readCorpus } from './data/corpora.js';
export type { CorpusName, TextDocument } from './data/corpora.js';
export { writeDocuments } from './data/corpus-export.js';
export type { ExportedCorpus } from './data/corpus-export.js';
export { buildPretrainingDataset } from './data/build.js';
export type { BuildConfig, BuildOptions, BuildResult } from './data/build.js';
export { buildOpenWebTextDataset } from './data/openwebtext.js';
export type { OpenWebTextConfig, OpenWebTextOptions } from './data/openwebtext.js';
export { openPretrainingDataset } from './data/pretraining-dataset.js';
export type {
  PretrainingDataset, OpenPretrainingDatasetOptions, PretrainingBatch, PretrainingDatasetState,
} from './data/pretraining-dataset.js';
export { vocabHash } from './data/manifest.js';

// Train: pre-training and fine-tuning runs.
export { resolvePretrainingHparams, parsePretrainingHparams } from './pretrain/hparams.js';
export type { PretrainingHparams, ResolvedPretrainingHparams } from './pretrain/hparams.js';
export { runPretraining } from './pretrain/run.js';
export type { RunPretrainingOptions, RunPretrainingResult, StepLog } from './pretrain/run.js';
export { resolveHparams, runFinetuning, runFinetuningAsync } from './finetune/index.js';
export type { FinetuningHparams, ResolvedHparams, FinetuneOptions, FinetuneResult } from './finetune/index.js';

// The demo: corpus -> vocabulary -> dataset -> pre-training -> fine-tuning -> table and report.
export { runDemo } from './demo/index.js';
export type { DemoOptions, DemoResult } from './demo/index.js';
