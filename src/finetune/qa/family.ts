// The question-answering family as the registry, the model and model folders see it (see TaskFamily).
import { UsageError } from '../../errors.js';
import { hfLabelsOf } from '../model/head.js';
import type { TaskFamily } from '../task.js';
import type { FinetuningHparams } from '../hparams.js';
import { ElectraQaHead, HfQaHead, type ElectraQaOptions, type QaOutput, type QaTargets } from './head.js';
import { QA_TASKS } from './task.js';

/** The reference QA head's options as hparams give them. */
export function electraQaOptions(hp: FinetuningHparams): ElectraQaOptions {
  return {
    jointPrediction: hp.joint_prediction, beamSize: hp.beam_size, answerableClassifier: hp.answerable_classifier,
    answerableUsesStartLogits: hp.answerable_uses_start_logits, answerableWeight: hp.answerable_weight,
  };
}

/** The QA family's settings: the reference head's options (needed for 'electra'-style heads). */
export interface QaFamilyOptions {
  qa?: ElectraQaOptions;
}

export const qaFamily: TaskFamily<'qa', QaTargets, QaOutput, QaFamilyOptions> = {
  kinds: ['qa'],
  tasks: QA_TASKS,
  rowsPerExample: () => 1,
  createHead: (spec, env) => {
    if (spec.style === 'hf') return new HfQaHead(env.k, env.params, spec.task, env.dims);
    if (!env.options.qa) throw new Error(`task ${spec.task}: the reference QA head needs its options (beam size, answerability)`);
    return new ElectraQaHead(env.k, env.params, spec.task, env.options.qa, env.dims);
  },
  headSpec: (t) => ({ task: t.name, kind: t.kind, style: t.style, numLabels: 0 }),
  hfClasses: ['ElectraForQuestionAnswering'],
  needsLabels: () => false,
  hfArchitecture: (t) => t.style === 'hf' ? 'ElectraForQuestionAnswering' : null,
  hfConfig: () => ({ labels: ['LABEL_0', 'LABEL_1'], problemType: null }),
  taskOfHfFolder: (arch, config, file) => {
    if (arch !== 'ElectraForQuestionAnswering') return null;
    if (hfLabelsOf(config).length !== 2) throw new UsageError(`${file}: a question-answering model has 2 outputs (start, end), config says ${hfLabelsOf(config).length}`);
    return { name: 'qa', kind: 'qa', style: 'hf', labels: null };
  },
};
