// The multiple-choice family as the registry, the model and model folders see it (see TaskFamily).
import { UsageError } from '../../errors.js';
import type { TaskFamily } from '../task.js';
import { MultipleChoiceHead, type ChoiceOutput } from './head.js';
import { MULTIPLE_CHOICE_TASKS } from './task.js';

/** Choices assumed for an HF ElectraForMultipleChoice folder, which does not record them (SWAG's 4). */
const HF_DEFAULT_CHOICES = 4;

export const multipleChoiceFamily: TaskFamily<'multiple_choice', number, ChoiceOutput> = {
  kinds: ['multiple_choice'],
  tasks: MULTIPLE_CHOICE_TASKS,
  rowsPerExample: (spec) => spec.numLabels,
  createHead: (spec, env) => new MultipleChoiceHead(env.k, env.params, spec.task, spec.numLabels, spec.style, env.dims, env.sites),
  headSpec: (t) => ({ task: t.name, kind: t.kind, style: t.style, numLabels: t.numChoices ?? HF_DEFAULT_CHOICES }),
  hfClasses: ['ElectraForMultipleChoice'],
  needsLabels: () => false,
  // Both styles' heads are HF's.
  hfArchitecture: () => 'ElectraForMultipleChoice',
  hfConfig: () => ({ labels: null, problemType: null }),
  taskOfHfFolder: (arch, config, file) => {
    if (arch !== 'ElectraForMultipleChoice') return null;
    if (config.summary_type !== 'first' || !config.summary_use_proj || config.summary_activation !== 'gelu') {
      throw new UsageError(`${file}: only the multiple-choice summary of ELECTRA's defaults is supported (summary_type "first", summary_use_proj true, summary_activation "gelu")`);
    }
    return { name: 'multiple_choice', kind: 'multiple_choice', style: 'hf', labels: null, numChoices: HF_DEFAULT_CHOICES };
  },
};
