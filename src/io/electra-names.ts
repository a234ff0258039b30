// The tensors an HF ELECTRA model of a given config and architecture has: names and shapes
// (Linear weights [out, in]), and checks that report missing, unexpected and mis-shaped tensors
// by name. Names are canonical: the base model always under "electra." (bare ElectraModel files
// drop that prefix on disk; the folder reader and writer convert).
import { FormatError } from '../errors.js';
import { numLabels, type ElectraArchitecture, type ElectraConfig } from './hf-config.js';
import { sameShape, shapeString, type TensorMap } from './tensor.js';

export interface TensorSpec {
  name: string;
  shape: number[];
}

/** Tensors of the base model (embeddings, optional embeddings_project, encoder). */
export function electraBaseSpec(config: ElectraConfig): TensorSpec[] {
  const V = config.vocab_size;
  const E = config.embedding_size;
  const H = config.hidden_size;
  const I = config.intermediate_size;
  const spec: TensorSpec[] = [
    { name: 'electra.embeddings.word_embeddings.weight', shape: [V, E] },
    { name: 'electra.embeddings.position_embeddings.weight', shape: [config.max_position_embeddings, E] },
    { name: 'electra.embeddings.token_type_embeddings.weight', shape: [config.type_vocab_size, E] },
    { name: 'electra.embeddings.LayerNorm.weight', shape: [E] },
    { name: 'electra.embeddings.LayerNorm.bias', shape: [E] },
  ];
  if (E !== H) {
    spec.push({ name: 'electra.embeddings_project.weight', shape: [H, E] }, { name: 'electra.embeddings_project.bias', shape: [H] });
  }
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const p = `electra.encoder.layer.${l}.`;
    for (const m of ['query', 'key', 'value']) {
      spec.push({ name: `${p}attention.self.${m}.weight`, shape: [H, H] }, { name: `${p}attention.self.${m}.bias`, shape: [H] });
    }
    spec.push(
      { name: `${p}attention.output.dense.weight`, shape: [H, H] },
      { name: `${p}attention.output.dense.bias`, shape: [H] },
      { name: `${p}attention.output.LayerNorm.weight`, shape: [H] },
      { name: `${p}attention.output.LayerNorm.bias`, shape: [H] },
      { name: `${p}intermediate.dense.weight`, shape: [I, H] },
      { name: `${p}intermediate.dense.bias`, shape: [I] },
      { name: `${p}output.dense.weight`, shape: [H, I] },
      { name: `${p}output.dense.bias`, shape: [H] },
      { name: `${p}output.LayerNorm.weight`, shape: [H] },
      { name: `${p}output.LayerNorm.bias`, shape: [H] },
    );
  }
  return spec;
}

/** Tensors of the head that `architecture` puts on the base model. */
export function electraHeadSpec(config: ElectraConfig, architecture: ElectraArchitecture): TensorSpec[] {
  const H = config.hidden_size;
  const E = config.embedding_size;
  const L = numLabels(config);
  switch (architecture) {
    case 'ElectraModel':
      return [];
    case 'ElectraForPreTraining':
      return [
        { name: 'discriminator_predictions.dense.weight', shape: [H, H] },
        { name: 'discriminator_predictions.dense.bias', shape: [H] },
        { name: 'discriminator_predictions.dense_prediction.weight', shape: [1, H] },
        { name: 'discriminator_predictions.dense_prediction.bias', shape: [1] },
      ];
    case 'ElectraForMaskedLM': {
      const spec: TensorSpec[] = [
        { name: 'generator_predictions.dense.weight', shape: [E, H] },
        { name: 'generator_predictions.dense.bias', shape: [E] },
        { name: 'generator_predictions.LayerNorm.weight', shape: [E] },
        { name: 'generator_predictions.LayerNorm.bias', shape: [E] },
        { name: 'generator_lm_head.bias', shape: [config.vocab_size] },
      ];
      if (!config.tie_word_embeddings) spec.push({ name: 'generator_lm_head.weight', shape: [config.vocab_size, E] });
      return spec;
    }
    case 'ElectraForSequenceClassification':
      return [
        { name: 'classifier.dense.weight', shape: [H, H] },
        { name: 'classifier.dense.bias', shape: [H] },
        { name: 'classifier.out_proj.weight', shape: [L, H] },
        { name: 'classifier.out_proj.bias', shape: [L] },
      ];
    case 'ElectraForTokenClassification':
      return [
        { name: 'classifier.weight', shape: [L, H] },
        { name: 'classifier.bias', shape: [L] },
      ];
    case 'ElectraForQuestionAnswering':
      return [
        { name: 'qa_outputs.weight', shape: [L, H] },
        { name: 'qa_outputs.bias', shape: [L] },
      ];
    case 'ElectraForMultipleChoice': {
      // SequenceSummary projects to hidden_size (ElectraConfig has no summary_proj_to_labels).
      const spec: TensorSpec[] = config.summary_use_proj
        ? [{ name: 'sequence_summary.summary.weight', shape: [H, H] }, { name: 'sequence_summary.summary.bias', shape: [H] }]
        : [];
      spec.push({ name: 'classifier.weight', shape: [1, H] }, { name: 'classifier.bias', shape: [1] });
      return spec;
    }
  }
}

/** Every tensor of `architecture` (default: the config's first) for `config`. */
export function electraTensorSpec(config: ElectraConfig, architecture?: ElectraArchitecture): TensorSpec[] {
  const arch = architecture ?? config.architectures[0] ?? 'ElectraModel';
  return [...electraBaseSpec(config), ...electraHeadSpec(config, arch)];
}

/** Guesses the architecture from head tensor names (for configs without "architectures"). */
export function inferArchitecture(names: Iterable<string>): ElectraArchitecture {
  const all = [...names];
  const has = (prefix: string): boolean => all.some((n) => n.startsWith(prefix));
  if (has('discriminator_predictions.')) return 'ElectraForPreTraining';
  if (has('generator_predictions.') || has('generator_lm_head.')) return 'ElectraForMaskedLM';
  if (has('classifier.out_proj.')) return 'ElectraForSequenceClassification';
  if (has('qa_outputs.')) return 'ElectraForQuestionAnswering';
  if (has('sequence_summary.')) return 'ElectraForMultipleChoice';
  if (has('classifier.')) return 'ElectraForTokenClassification';
  return 'ElectraModel';
}

export interface TensorProblems {
  missing: TensorSpec[];
  unexpected: Array<{ name: string; shape: number[] }>;
  wrongShape: Array<{ name: string; expected: number[]; actual: number[] }>;
}

/** Compares tensors (or just their shapes) with a spec. */
export function checkTensors(tensors: TensorMap | Map<string, { shape: number[] }>, spec: TensorSpec[]): TensorProblems {
  const problems: TensorProblems = { missing: [], unexpected: [], wrongShape: [] };
  const wanted = new Map(spec.map((s) => [s.name, s.shape]));
  for (const s of spec) {
    const t = tensors.get(s.name);
    if (!t) problems.missing.push(s);
    else if (!sameShape(t.shape, s.shape)) problems.wrongShape.push({ name: s.name, expected: s.shape, actual: t.shape });
  }
  for (const [name, t] of tensors) if (!wanted.has(name)) problems.unexpected.push({ name, shape: t.shape });
  return problems;
}

export function hasProblems(p: TensorProblems): boolean {
  return p.missing.length + p.unexpected.length + p.wrongShape.length > 0;
}

/** A readable account of the problems, each tensor named (lists cut after `limit` items). */
export function describeProblems(p: TensorProblems, limit = 20, label: (name: string) => string = (n) => n): string {
  const parts: string[] = [];
  const list = (items: string[]): string =>
    items.slice(0, limit).join(', ') + (items.length > limit ? `, ... (${items.length - limit} more)` : '');
  if (p.wrongShape.length > 0) {
    parts.push(`${p.wrongShape.length} with the wrong shape: ` +
      list(p.wrongShape.map((w) => `${label(w.name)} is ${shapeString(w.actual)}, expected ${shapeString(w.expected)}`)));
  }
  if (p.missing.length > 0) parts.push(`${p.missing.length} missing: ` + list(p.missing.map((m) => `${m.name} ${shapeString(m.shape)}`)));
  if (p.unexpected.length > 0) parts.push(`${p.unexpected.length} unexpected: ` + list(p.unexpected.map((u) => `${label(u.name)} ${shapeString(u.shape)}`)));
  return parts.join('; ');
}

/**
 * Throws a FormatError for `file` unless the tensors match the spec exactly. `what` names the
 * model the spec describes, e.g. "ElectraForMaskedLM with hidden_size 256 (config.json)".
 */
export function assertTensorsMatch(
  tensors: TensorMap | Map<string, { shape: number[] }>, spec: TensorSpec[], file: string, what: string,
  label?: (name: string) => string,
): void {
  const p = checkTensors(tensors, spec);
  if (!hasProblems(p)) return;
  const hint = p.wrongShape.length > 0 ? ' (are the weights from a model of another size than the config says, e.g. a generator of another size?)' : '';
  const first = p.wrongShape[0]?.name ?? p.missing[0]?.name ?? p.unexpected[0]?.name;
  throw new FormatError(file, `tensors do not fit ${what}: ${describeProblems(p, 20, label)}${hint}`, first);
}
