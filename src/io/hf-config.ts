// config.json of a HuggingFace ELECTRA model folder (transformers' ElectraConfig), read with
// transformers' defaults for absent fields, checked, and written back with any extra keys kept.
import { FormatError } from '../errors.js';

export const ELECTRA_ARCHITECTURES = [
  'ElectraModel',
  'ElectraForPreTraining',
  'ElectraForMaskedLM',
  'ElectraForSequenceClassification',
  'ElectraForTokenClassification',
  'ElectraForQuestionAnswering',
  'ElectraForMultipleChoice',
] as const;

export type ElectraArchitecture = (typeof ELECTRA_ARCHITECTURES)[number];

export function isElectraArchitecture(name: string): name is ElectraArchitecture {
  return (ELECTRA_ARCHITECTURES as readonly string[]).includes(name);
}

/** ElectraConfig, field names as in config.json. */
export interface ElectraConfig {
  model_type: 'electra';
  /** The model class(es) the weights belong to; the first decides the expected tensors. */
  architectures: ElectraArchitecture[];
  vocab_size: number;
  embedding_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: string;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  initializer_range: number;
  layer_norm_eps: number;
  summary_type: string;
  summary_use_proj: boolean;
  summary_activation: string | null;
  summary_last_dropout: number;
  pad_token_id: number;
  position_embedding_type: 'absolute';
  classifier_dropout: number | null;
  /** Label names by class index (as strings, like config.json); num_labels is its size. */
  id2label: Record<string, string>;
  label2id: Record<string, number>;
  /** Whether generator_lm_head.weight is the word embedding matrix (transformers' default). */
  tie_word_embeddings: boolean;
  /** Every other key of config.json (transformers_version, torch_dtype, problem_type, ...), kept as is. */
  extra: Record<string, unknown>;
}

/** transformers' ElectraConfig defaults (those of google/electra-small-discriminator). */
export function defaultElectraConfig(overrides: Partial<ElectraConfig> = {}): ElectraConfig {
  const base: ElectraConfig = {
    model_type: 'electra',
    architectures: ['ElectraForPreTraining'],
    vocab_size: 30522,
    embedding_size: 128,
    hidden_size: 256,
    num_hidden_layers: 12,
    num_attention_heads: 4,
    intermediate_size: 1024,
    hidden_act: 'gelu',
    hidden_dropout_prob: 0.1,
    attention_probs_dropout_prob: 0.1,
    max_position_embeddings: 512,
    type_vocab_size: 2,
    initializer_range: 0.02,
    layer_norm_eps: 1e-12,
    summary_type: 'first',
    summary_use_proj: true,
    summary_activation: 'gelu',
    summary_last_dropout: 0.1,
    pad_token_id: 0,
    position_embedding_type: 'absolute',
    classifier_dropout: null,
    id2label: { '0': 'LABEL_0', '1': 'LABEL_1' },
    label2id: { LABEL_0: 0, LABEL_1: 1 },
    tie_word_embeddings: true,
    extra: {},
  };
  return { ...base, ...overrides };
}

export function numLabels(config: ElectraConfig): number {
  return Object.keys(config.id2label).length;
}

/** Default label names for `n` classes, as transformers makes them. */
export function defaultLabels(n: number): { id2label: Record<string, string>; label2id: Record<string, number> } {
  const id2label: Record<string, string> = {};
  const label2id: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    id2label[String(i)] = `LABEL_${i}`;
    label2id[`LABEL_${i}`] = i;
  }
  return { id2label, label2id };
}

const KNOWN_KEYS = new Set([
  'model_type', 'architectures', 'vocab_size', 'embedding_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads',
  'intermediate_size', 'hidden_act', 'hidden_dropout_prob', 'attention_probs_dropout_prob', 'max_position_embeddings',
  'type_vocab_size', 'initializer_range', 'layer_norm_eps', 'summary_type', 'summary_use_proj', 'summary_activation',
  'summary_last_dropout', 'pad_token_id', 'position_embedding_type', 'classifier_dropout', 'id2label', 'label2id',
  'num_labels', 'tie_word_embeddings',
]);

/** Parses a config.json object (`file` names it in errors). Unknown architectures are rejected. */
export function parseElectraConfig(json: unknown, file: string): ElectraConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new FormatError(file, 'config must be a JSON object');
  const raw = json as Record<string, unknown>;
  const d = defaultElectraConfig();
  const bad = (key: string, what: string): never => {
    throw new FormatError(file, `"${key}" must be ${what}, got ${JSON.stringify(raw[key])}`);
  };
  const posInt = (key: string, dflt: number): number => {
    const v = raw[key];
    if (v === undefined) return dflt;
    return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : bad(key, 'a positive integer');
  };
  const int = (key: string, dflt: number): number => {
    const v = raw[key];
    if (v === undefined || v === null) return dflt;
    return typeof v === 'number' && Number.isSafeInteger(v) ? v : bad(key, 'an integer');
  };
  const prob = (key: string, dflt: number): number => {
    const v = raw[key];
    if (v === undefined) return dflt;
    return typeof v === 'number' && v >= 0 && v < 1 ? v : bad(key, 'a number in [0, 1)');
  };
  const positive = (key: string, dflt: number): number => {
    const v = raw[key];
    if (v === undefined) return dflt;
    return typeof v === 'number' && v > 0 && Number.isFinite(v) ? v : bad(key, 'a positive number');
  };
  const str = (key: string, dflt: string): string => {
    const v = raw[key];
    if (v === undefined) return dflt;
    return typeof v === 'string' ? v : bad(key, 'a string');
  };
  const bool = (key: string, dflt: boolean): boolean => {
    const v = raw[key];
    if (v === undefined) return dflt;
    return typeof v === 'boolean' ? v : bad(key, 'true or false');
  };

  const modelType = raw['model_type'];
  const archRaw = raw['architectures'];
  let architectures: ElectraArchitecture[] = [];
  if (archRaw !== undefined && archRaw !== null) {
    if (!Array.isArray(archRaw) || !archRaw.every((a) => typeof a === 'string')) bad('architectures', 'a list of class names');
    for (const a of archRaw as string[]) {
      if (!isElectraArchitecture(a)) {
        throw new FormatError(file, `unsupported architecture '${a}': electra-ts reads ${ELECTRA_ARCHITECTURES.join(', ')}`);
      }
      architectures.push(a);
    }
  }
  if (modelType !== undefined && modelType !== 'electra') {
    throw new FormatError(file, `model_type ${JSON.stringify(modelType)} is not supported: electra-ts reads ELECTRA models (model_type "electra")`);
  }
  if (modelType === undefined && architectures.length === 0) {
    throw new FormatError(file, 'neither "model_type" nor "architectures" is set, so this is not recognisably an ELECTRA config');
  }
  architectures = [...new Set(architectures)];

  const positionType = str('position_embedding_type', 'absolute');
  if (positionType !== 'absolute') {
    throw new FormatError(file, `position_embedding_type "${positionType}" is not supported (only "absolute", as in ELECTRA)`);
  }
  if (raw['is_decoder'] === true || raw['add_cross_attention'] === true) {
    throw new FormatError(file, 'decoder / cross-attention ELECTRA configs are not supported');
  }

  // Labels: id2label wins, then num_labels, then transformers' default of 2.
  let id2label: Record<string, string>;
  let label2id: Record<string, number>;
  if (raw['id2label'] !== undefined) {
    const m = raw['id2label'];
    if (typeof m !== 'object' || m === null || Array.isArray(m)) return bad('id2label', 'an object');
    id2label = {};
    const entries = Object.entries(m as Record<string, unknown>);
    for (const [k, v] of entries) {
      if (!/^\d+$/.test(k) || typeof v !== 'string') bad('id2label', 'an object of "index": "name"');
      id2label[String(Number(k))] = v as string;
    }
    for (let i = 0; i < entries.length; i++) if (!(String(i) in id2label)) bad('id2label', `indices 0..${entries.length - 1}`);
    if (raw['label2id'] !== undefined) {
      const l = raw['label2id'];
      if (typeof l !== 'object' || l === null || Array.isArray(l)) return bad('label2id', 'an object');
      label2id = {};
      for (const [k, v] of Object.entries(l as Record<string, unknown>)) {
        if (typeof v !== 'number' || !Number.isSafeInteger(v)) bad('label2id', 'an object of "name": index');
        label2id[k] = v as number;
      }
    } else {
      label2id = Object.fromEntries(Object.entries(id2label).map(([k, v]) => [v, Number(k)]));
    }
    const n = raw['num_labels'];
    if (n !== undefined && n !== entries.length) {
      throw new FormatError(file, `"num_labels" is ${JSON.stringify(n)} but "id2label" has ${entries.length} labels`);
    }
  } else {
    ({ id2label, label2id } = defaultLabels(posInt('num_labels', 2)));
  }

  const summaryActivation = raw['summary_activation'];
  if (summaryActivation !== undefined && summaryActivation !== null && typeof summaryActivation !== 'string') {
    bad('summary_activation', 'a string or null');
  }
  const classifierDropout = raw['classifier_dropout'];
  if (classifierDropout !== undefined && classifierDropout !== null && !(typeof classifierDropout === 'number' && classifierDropout >= 0 && classifierDropout < 1)) {
    bad('classifier_dropout', 'null or a number in [0, 1)');
  }

  const config: ElectraConfig = {
    model_type: 'electra',
    architectures,
    vocab_size: posInt('vocab_size', d.vocab_size),
    embedding_size: posInt('embedding_size', d.embedding_size),
    hidden_size: posInt('hidden_size', d.hidden_size),
    num_hidden_layers: posInt('num_hidden_layers', d.num_hidden_layers),
    num_attention_heads: posInt('num_attention_heads', d.num_attention_heads),
    intermediate_size: posInt('intermediate_size', d.intermediate_size),
    hidden_act: str('hidden_act', d.hidden_act),
    hidden_dropout_prob: prob('hidden_dropout_prob', d.hidden_dropout_prob),
    attention_probs_dropout_prob: prob('attention_probs_dropout_prob', d.attention_probs_dropout_prob),
    max_position_embeddings: posInt('max_position_embeddings', d.max_position_embeddings),
    type_vocab_size: posInt('type_vocab_size', d.type_vocab_size),
    initializer_range: positive('initializer_range', d.initializer_range),
    layer_norm_eps: positive('layer_norm_eps', d.layer_norm_eps),
    summary_type: str('summary_type', d.summary_type),
    summary_use_proj: bool('summary_use_proj', d.summary_use_proj),
    summary_activation: (summaryActivation as string | null | undefined) === undefined ? d.summary_activation : (summaryActivation as string | null),
    summary_last_dropout: prob('summary_last_dropout', d.summary_last_dropout),
    pad_token_id: int('pad_token_id', d.pad_token_id),
    position_embedding_type: 'absolute',
    classifier_dropout: (classifierDropout as number | null | undefined) ?? null,
    id2label,
    label2id,
    tie_word_embeddings: bool('tie_word_embeddings', d.tie_word_embeddings),
    extra: {},
  };
  if (config.hidden_size % config.num_attention_heads !== 0) {
    throw new FormatError(file, `hidden_size ${config.hidden_size} is not a multiple of num_attention_heads ${config.num_attention_heads}`);
  }
  for (const [k, v] of Object.entries(raw)) if (!KNOWN_KEYS.has(k)) config.extra[k] = v;
  return config;
}

/** The config.json object for `config`: transformers' key order (sorted), extras included. */
export function electraConfigToJson(config: ElectraConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config.extra };
  const { extra: _extra, ...fields } = config;
  Object.assign(out, fields);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A config.json text (2-space indented, trailing newline, as transformers writes it). */
export function electraConfigText(config: ElectraConfig): string {
  return JSON.stringify(electraConfigToJson(config), null, 2) + '\n';
}
