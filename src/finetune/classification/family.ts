// The classification family as the registry, the model and model folders see it (see TaskFamily).
import { UsageError } from '../../errors.js';
import { hfLabelsOf } from '../model/head.js';
import type { TaskFamily } from '../task.js';
import { SentenceHead, type SentenceOutput, type SentenceTarget } from './head.js';
import { CLASSIFICATION_TASKS } from './task.js';

export const classificationFamily: TaskFamily<'classification' | 'regression', SentenceTarget, SentenceOutput> = {
  kinds: ['classification', 'regression'],
  tasks: CLASSIFICATION_TASKS,
  rowsPerExample: () => 1,
  createHead: (spec, env) => new SentenceHead(env.k, env.params, spec.task, spec.kind, spec.numLabels, spec.style, env.dims, env.sites, spec.summaryType),
  headSpec: (t) => ({
    task: t.name, kind: t.kind, style: t.style, numLabels: t.kind === 'regression' ? 1 : t.labels!.length,
    ...(t.summaryType ? { summaryType: t.summaryType } : {}),
  }),
  hfClasses: ['ElectraForSequenceClassification'],
  needsLabels: (kind) => kind === 'classification',
  hfArchitecture: (t) => t.style === 'hf' ? 'ElectraForSequenceClassification' : null,
  hfConfig: (t) => t.kind === 'regression'
    ? { labels: ['LABEL_0'], problemType: 'regression' }
    : { labels: t.labels, problemType: 'single_label_classification' },
  taskOfHfFolder: (arch, config, file) => {
    if (arch !== 'ElectraForSequenceClassification') return null;
    const problem = config.extra['problem_type'];
    if (problem === 'multi_label_classification') throw new UsageError(`${file}: multi-label classification models are not supported`);
    const regression = problem === 'regression' || (problem === undefined && hfLabelsOf(config).length === 1);
    return regression
      ? { name: 'regression', kind: 'regression', style: 'hf', labels: null }
      : { name: 'classification', kind: 'classification', style: 'hf', labels: hfLabelsOf(config) };
  },
};
