// Public fine-tuning API: tasks, data readers, featurisation, scorers, QA post-processing,
// hparams, layer-wise learning rates; task heads, the fine-tuning model and run, inference.
export { formatResults, formatResultsFile, resultsObject, prefixed } from './scorer.js';
export type { Scorer, MetricList } from './scorer.js';
export {
  accuracy, binaryF1, matthewsCorrcoef, pearson, spearman, averageRanks,
  AccuracyScorer, F1Scorer, AccuracyF1Scorer, MCCScorer, RegressionScorer,
} from './classification/metrics.js';
export type { ClassificationResult, RegressionResult, PrecisionRecallF1 } from './classification/metrics.js';
export { normalizeAnswer, tokenF1, exactMatch, pythonSplit } from './qa/answer-text.js';
export { evaluateSquadV2, evaluateSquadV1, evaluateMrqa, findBestThreshold, squadV2F1, sortedMetrics } from './qa/metrics.js';
export type { GoldQuestion, QaEvaluation, SquadV2Options } from './qa/metrics.js';
export { getSpanLabels, getTags, toBioes, EntityLevelF1Scorer, TokenAccuracyScorer } from './tagging/metrics.js';
export type { Span, TaggingResult } from './tagging/metrics.js';
export {
  GLUE_TASK_NAMES, glueLayout, glueFile, isUnlabelledSplit, loadSentenceExamples, readSentenceFile,
} from './classification/data.js';
export type {
  SentenceExample, ColumnLayout, LabelSpec, SentenceData, SkippedRow, GlueTaskName,
} from './classification/data.js';
export { readTsv } from './data/text-file.js';
export type { TsvRow } from './data/text-file.js';
export { readSquad, readMrqa, goldQuestions } from './qa/data.js';
export type { QaExample, QaAnswerSpan, QaData, QaReadOptions } from './qa/data.js';
export { readConll } from './tagging/conll.js';
export type { TaggedSentence, ConllOptions } from './tagging/conll.js';
export {
  brownDocuments, brownGenres, brownGenreExamples, brownPosSentences, brownPosTags, normalizeBrownTag, BROWN_PASSAGE_WORDS,
} from './data/brown.js';
export type { BrownPassage, BrownTaggedSentence } from './data/brown.js';
export { featurizeSentence, labelValue } from './classification/features.js';
export type { SentenceFeatures } from './classification/features.js';
export { featurizeQa, docSpans, isMaxContext } from './qa/features.js';
export type { QaFeatures, QaFeatureOptions } from './qa/features.js';
export { featurizeTagging, featurizeTaggingWindows } from './tagging/features.js';
export { readTable, readJsonLines, type TableFormat, type ColumnRef } from './data/table.js';
export { readWordTag, readTaggedFile, type TaggingFormat } from './tagging/readers.js';
export type { TaggingExample, TaggingFeatures } from './tagging/features.js';
export { padBatch } from './features/batch.js';
export type { EncodedInput, InputBatch } from './features/batch.js';
export { postprocessQa, applyNullThreshold, writeQaPredictions, topKIndices, pythonJson } from './qa/postprocess.js';
export type { QaRawResult, QaPostprocessOptions, QaPredictions, NbestEntry, QaOutputFiles } from './qa/postprocess.js';
export { SpanBasedQaScorer } from './qa/scorer.js';
export type { QaEvaluationKind, QaScorerOptions, QaScoredResult } from './qa/scorer.js';
export {
  DEFAULT_HPARAMS, resolveHparams, parseHparams, readHparamsArgument, parseTaskSpec, finetuningPaths,
} from './hparams.js';
export type {
  FinetuningHparams, ResolvedHparams, FinetuningPaths, ModelSize, CustomTaskSpec, ClassificationTaskSpec,
  RegressionTaskSpec, TaggingTaskSpec,
} from './hparams.js';
export { getTask, getTasks, taskDefaults, BUILTIN_TASKS, SentenceTask, QaTask, TaggingTask, MultipleChoiceTask } from './tasks.js';
export type { Task, TaskContext, TaskKind, TaskInfo, AnyTask, SentenceMetric, EvaluationEnv } from './tasks.js';
export { FAMILIES, familyOf } from './families.js';
export type { HeadFamily, ModelHead, HeadOutputBase, HeadEnv } from './model/head.js';
export { readChoiceFile } from './multiple-choice/data.js';
export type { ChoiceExample, ChoiceReadOptions } from './multiple-choice/data.js';
export { featurizeChoices } from './multiple-choice/features.js';
export type { ChoiceFeatures } from './multiple-choice/features.js';
export { MultipleChoiceHead } from './multiple-choice/head.js';
export type { ChoiceOutput, MultipleChoiceHeadOutput } from './multiple-choice/head.js';
export { layerDepth, layerwiseLrScale, layerwiseLrScales } from './layerwise-lr.js';
export type { LayerwiseLrOptions } from './layerwise-lr.js';
export { headPrefix, softmaxCrossEntropyRow, logSoftmaxRow, sigmoidCrossEntropy } from './model/head.js';
export type { HeadStyle, HeadInput, HeadDims } from './model/head.js';
export { SentenceHead } from './classification/head.js';
export type { SentenceHeadOutput } from './classification/head.js';
export { TaggingHead } from './tagging/head.js';
export type { TaggingTargets, TaggingHeadOutput } from './tagging/head.js';
export { HfQaHead, ElectraQaHead, QA_HIDDEN } from './qa/head.js';
export type { QaTargets, QaHeadResult, QaHeadOutput, QaHead, ElectraQaOptions } from './qa/head.js';
export { FinetuningModel } from './model/finetuning-model.js';
export type { HeadKind, HeadSpec, FinetuningModelOptions, AnyHead, BatchItem, ItemOutput, RunOptions, RunResult } from './model/finetuning-model.js';
export { itemInputs, itemLength } from './model/finetuning-model.js';
export { AdamW, lrSegments } from '../optim/adamw.js';
export type { LrSegment } from '../optim/adamw.js';
export {
  FINETUNING_CONFIG_KEY, modelConfigFromHparams, checkModelSize, readFinetuningFolder, loadWeights,
  saveFinetunedModel, hfArchitectureFor, headSpecsOf,
} from './model/checkpoint.js';
export type { SavedTask, SavedFinetuning, FinetuningFolder, LoadReport, SaveOptions } from './model/checkpoint.js';
export { modelConfigFromHf } from '../model/config.js';
export { runFinetuning, runFinetuningAsync, evaluateTask, medianResults, resolvePretrainedFolder } from './runner.js';
export type { FinetuneOptions, FinetuneResult, TaskEvaluation } from './runner.js';
export { FinetunedModel, loadFinetuned } from './inference.js';
export type { LoadFinetunedOptions, Classification, Choice, TaggedWord, Answer, PreparedInput, PrepareOptions } from './inference.js';
export { finetunedPredictor } from './predictor.js';
export type { FinetunedPredictorOptions } from './predictor.js';
