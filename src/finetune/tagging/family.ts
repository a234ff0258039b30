// The tagging family as the model and model folders see it (see HeadFamily).

import { hfLabelsOf, type HeadFamily } from '../model/head.js';
import { TaggingHead, type TaggingOutput, type TaggingTargets } from './head.js';

export const taggingFamily: HeadFamily<'tagging', TaggingTargets, TaggingOutput> = {
  kinds: ['tagging'],
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
