// The registry of tasks: the reference's GLUE, SQuAD, MRQA and chunking tasks, generic tasks
// configured in hparams, and the Brown demo tasks on shipped data. Each task family (its Task
// class, reader, featurizer, head and scorer) lives in its own folder.
import { UsageError } from '../errors.js';
import { closestName } from '../util/suggest.js';
import { resolveHparams, type CustomTaskSpec } from './hparams.js';
import type { AnyTask, BuiltinTask, TaskContext, TaskInfo } from './task.js';
import { FAMILIES } from './families.js';
import { genericSentenceTask } from './classification/task.js';
import { conllTask } from './tagging/task.js';

export type { AnyTask, Task, TaskContext, TaskKind, TaskEvaluation, EvaluationEnv, TaskInfo, BuiltinTask, TaskFamily } from './task.js';
export { SentenceTask, type SentenceMetric } from './classification/task.js';
export { QaTask } from './qa/task.js';
export { TaggingTask } from './tagging/task.js';
export { MultipleChoiceTask } from './multiple-choice/task.js';

/** Every family's tasks by name. */
const BUILTINS: Readonly<Record<string, BuiltinTask>> = Object.assign({}, ...FAMILIES.map((f) => f.tasks));

export const BUILTIN_TASKS: Readonly<Record<string, TaskInfo>> = Object.fromEntries(Object.entries(BUILTINS).map(([name, t]) => [name, t.info]));

/** The built-in tasks whose data lives in <data_dir>/finetuning_data/<task>. */
export const DATA_DIR_TASKS: ReadonlySet<string> = new Set(Object.keys(BUILTINS).filter((name) => BUILTINS[name]!.dataDir));

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
  const builtin = BUILTINS[name];
  if (builtin) return builtin.create(name, ctx);
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
