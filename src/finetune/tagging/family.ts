// The tagging family as the registry, the model and model folders see it (see TaskFamily).
import { hfLabelsOf } from '../model/head.js';
import type { TaskFamily } from '../task.js';
import { TaggingHead, type TaggingOutput, type TaggingTargets } from './head.js';
import { TAGGING_TASKS } from './task.js';

export const taggingFamily: TaskFamily<'tagging', TaggingTargets, TaggingOutput> = {
  kinds: ['tagging'],
  tasks: TAGGING_TASKS,
  rowsPerExample: () => 1,
  createHead: (spec, env) => new TaggingHead(env.k, env.params, spec.task, spec.numLabels, spec.style, env.dims, env.sites),
  headSpec: (t) => ({ task: t.name, kind: t.kind, style: t.style, numLabels: t.labels!.length }),
  hfClasses: ['ElectraForTokenClassification'],
  needsLabels: () => true,
  // Both styles' heads are HF's token classifier.
  hfArchitecture: () => 'ElectraForTokenClassification',
  hfConfig: (t) => ({ labels: t.labels, problemType: null }),
  taskOfHfFolder: (arch, config) => arch === 'ElectraForTokenClassification'
    ? { name: 'tagging', kind: 'tagging', style: 'hf', labels: hfLabelsOf(config), tokenLevel: true }
    : null,
};
