// google-research/electra checkpoints -> HF Electra names. The reference builds, in one graph:
//   electra/embeddings/{word,position,token_type}_embeddings, electra/embeddings/LayerNorm/{gamma,beta}
//       (shared by generator and discriminator unless untied_generator_embeddings, which puts
//       the generator's under generator/embeddings/)
//   electra/embeddings_project/{kernel,bias}, electra/encoder/layer_N/...        (discriminator)
//   generator/embeddings_project/{kernel,bias}, generator/encoder/layer_N/...    (generator)
//   discriminator_predictions/dense/..., discriminator_predictions/dense_1/...   (-> dense_prediction)
//   generator_predictions/dense/..., generator_predictions/LayerNorm/..., generator_predictions/output_bias
//       (-> generator_lm_head.bias; the LM head weight is the word embedding matrix)
//   generator_ltr/..., generator_rtl/..., cloze_predictions/...  (Electric's two-tower generator: skipped)
// plus optimizer slots (<var>/adam_m, <var>/adam_v) and global_step, which are skipped.
// TF dense kernels are [in, out]; PyTorch Linear weights are [out, in], so kernels are transposed.
import { FormatError, UsageError } from '../errors.js';
import { defaultElectraConfig, type ElectraArchitecture, type ElectraConfig } from './hf-config.js';
import { assertTensorsMatch, electraTensorSpec } from './electra-names.js';
import { TfCheckpoint } from './tf-checkpoint.js';
import { shapeString, transpose2d, type TensorMap } from './tensor.js';
import type { ModelFolder } from './hf-folder.js';

export type ElectraRole = 'discriminator' | 'generator';

export interface TfNameMapping {
  hfName: string;
  /** A dense kernel: transpose [in, out] -> [out, in]. */
  transpose: boolean;
}

export type TfNameVerdict =
  | { kind: 'map'; mapping: TfNameMapping }
  | { kind: 'skip'; reason: string }
  | { kind: 'unknown' };

const OPTIMIZER_SLOT = /\/(adam_m|adam_v|Adam|Adam_1|Momentum|RMSProp|RMSProp_1|Adagrad)$/;
const BOOKKEEPING = new Set(['global_step', 'beta1_power', 'beta2_power', 'temperature']);

/** Maps a path inside a model scope (e.g. "encoder/layer_3/attention/self/query/kernel"). */
function mapModulePath(path: string): TfNameMapping | undefined {
  const parts = path.split('/');
  const leaf = parts.pop();
  if (!leaf || parts.some((p) => p.length === 0)) return undefined;
  const modules = parts.map((p) => p.replace(/^layer_(\d+)$/, 'layer.$1'));
  if (leaf.endsWith('_embeddings')) return { hfName: [...modules, leaf, 'weight'].join('.'), transpose: false };
  const param = ({ kernel: 'weight', gamma: 'weight', beta: 'bias', bias: 'bias' } as Record<string, string>)[leaf];
  if (!param || modules.length === 0) return undefined;
  return { hfName: [...modules, param].join('.'), transpose: leaf === 'kernel' };
}

/**
 * What happens to TF variable `name` when extracting `role`. `generatorHasOwnEmbeddings` is set
 * when the checkpoint has generator/embeddings/ (untied_generator_embeddings).
 */
export function mapTfVariable(name: string, role: ElectraRole, generatorHasOwnEmbeddings = false): TfNameVerdict {
  if (BOOKKEEPING.has(name)) return { kind: 'skip', reason: 'training state' };
  if (OPTIMIZER_SLOT.test(name)) return { kind: 'skip', reason: 'optimizer slot' };
  const slash = name.indexOf('/');
  if (slash < 0) return { kind: 'unknown' };
  const scope = name.slice(0, slash);
  const rest = name.slice(slash + 1);
  const into = (prefix: string, path: string): TfNameVerdict => {
    const m = mapModulePath(path);
    return m ? { kind: 'map', mapping: { hfName: `${prefix}.${m.hfName}`, transpose: m.transpose } } : { kind: 'unknown' };
  };
  const other = (what: string): TfNameVerdict => ({ kind: 'skip', reason: `belongs to the ${what}` });
  switch (scope) {
    case 'electra':
      if (rest.startsWith('embeddings/')) {
        if (role === 'generator' && generatorHasOwnEmbeddings) return other('discriminator (the generator has its own embeddings)');
        return into('electra', rest);
      }
      return role === 'discriminator' ? into('electra', rest) : other('discriminator');
    case 'generator':
      return role === 'generator' ? into('electra', rest) : other('generator');
    case 'discriminator_predictions':
      if (role !== 'discriminator') return other('discriminator');
      return into('discriminator_predictions', rest.replace(/^dense_1\//, 'dense_prediction/'));
    case 'generator_ltr':
    case 'generator_rtl':
    case 'cloze_predictions':
      // Electric's two-tower cloze generator: no HF architecture holds it.
      return { kind: 'skip', reason: 'belongs to the two-tower cloze generator (Electric), which has no HF model' };
    case 'generator_predictions':
      if (role !== 'generator') return other('generator');
      if (rest === 'output_bias') return { kind: 'map', mapping: { hfName: 'generator_lm_head.bias', transpose: false } };
      return into('generator_predictions', rest);
    default:
      return { kind: 'unknown' };
  }
}

/** Options of convertTfCheckpoint: which model of the checkpoint, the config or how to infer it. */
export interface TfConvertOptions {
  role?: ElectraRole;
  /** Use this config (checked against the tensors) instead of inferring one from shapes. */
  config?: ElectraConfig;
  /** Heads when inferring (default: the reference's rule max(1, hidden_size / 64)). */
  numAttentionHeads?: number;
  /** Skip variables that are not part of an ELECTRA model instead of failing. */
  ignoreUnknown?: boolean;
}

/** The model folder converted from Google's TF checkpoint, with what was mapped and skipped. */
export interface TfConvertResult {
  folder: ModelFolder;
  /** TF name -> HF name of every converted tensor. */
  mapped: Map<string, string>;
  /** TF names skipped, with why. */
  skipped: Map<string, string>;
  /** How the config was obtained, for the user. */
  notes: string[];
}

/**
 * Infers an ElectraConfig from mapped tensor shapes. Sizes come from the embeddings and layer 0;
 * the head count cannot be seen in shapes, so it follows the reference (hidden_size / 64, at
 * least 1) unless `numAttentionHeads` is given.
 */
export function inferElectraConfig(
  shapes: Map<string, { shape: number[] }>, architecture: ElectraArchitecture, file: string, numAttentionHeads?: number,
): { config: ElectraConfig; notes: string[] } {
  const need = (name: string, rank: number): number[] => {
    const s = shapes.get(name)?.shape;
    if (!s) throw new FormatError(file, `cannot infer the model size: tensor '${name}' is missing`, name);
    if (s.length !== rank) throw new FormatError(file, `tensor '${name}' has shape ${shapeString(s)}, expected rank ${rank}`, name);
    return s;
  };
  const [V, E] = need('electra.embeddings.word_embeddings.weight', 2) as [number, number];
  const [P] = need('electra.embeddings.position_embeddings.weight', 2) as [number, number];
  const [T] = need('electra.embeddings.token_type_embeddings.weight', 2) as [number, number];
  const [H] = need('electra.encoder.layer.0.attention.self.query.weight', 2) as [number, number];
  const [I] = need('electra.encoder.layer.0.intermediate.dense.weight', 2) as [number, number];
  let layers = 0;
  for (const name of shapes.keys()) {
    const m = /^electra\.encoder\.layer\.(\d+)\./.exec(name);
    if (m) layers = Math.max(layers, Number(m[1]) + 1);
  }
  const heads = numAttentionHeads ?? Math.max(1, Math.floor(H / 64));
  if (H % heads !== 0) throw new UsageError(`hidden_size ${H} is not divisible by ${heads} attention heads`);
  const notes = [
    `config inferred from tensor shapes: vocab_size ${V}, embedding_size ${E}, hidden_size ${H}, ${layers} layers, intermediate_size ${I}, max_position_embeddings ${P}, type_vocab_size ${T}`,
    numAttentionHeads === undefined
      ? `num_attention_heads ${heads} = max(1, hidden_size / 64), the reference's rule (shapes do not show the head count; pass --num-attention-heads or --config to override)`
      : `num_attention_heads ${heads} as given`,
    'other fields take ELECTRA\'s values: hidden_act gelu, dropout 0.1, layer_norm_eps 1e-12, initializer_range 0.02',
  ];
  const config = defaultElectraConfig({
    architectures: [architecture],
    vocab_size: V,
    embedding_size: E,
    hidden_size: H,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    intermediate_size: I,
    max_position_embeddings: P,
    type_vocab_size: T,
  });
  return { config, notes };
}

/** Converts one model (discriminator or generator) of a reference checkpoint to an HF model folder in memory. */
export function convertTfCheckpoint(path: string, options: TfConvertOptions = {}): TfConvertResult {
  const role = options.role ?? 'discriminator';
  const ckpt = new TfCheckpoint(path);
  try {
    const file = ckpt.indexPath;
    const names = [...ckpt.entries.keys()];
    const ownEmbeddings = names.some((n) => n.startsWith('generator/embeddings/'));
    const mapped = new Map<string, string>();
    const skipped = new Map<string, string>();
    const unknown: string[] = [];
    const plan = new Map<string, { tf: string; transpose: boolean }>();
    for (const name of names) {
      const v = mapTfVariable(name, role, ownEmbeddings);
      if (v.kind === 'skip') skipped.set(name, v.reason);
      else if (v.kind === 'unknown') unknown.push(name);
      else {
        const prev = plan.get(v.mapping.hfName);
        if (prev) throw new FormatError(file, `variables '${prev.tf}' and '${name}' both map to ${v.mapping.hfName}`, name);
        plan.set(v.mapping.hfName, { tf: name, transpose: v.mapping.transpose });
        mapped.set(name, v.mapping.hfName);
      }
    }
    if (plan.size === 0) {
      const sample = names.filter((n) => !OPTIMIZER_SLOT.test(n)).slice(0, 3).join(', ');
      throw new FormatError(file, `no ELECTRA ${role} variables found (expected names like electra/embeddings/word_embeddings; this checkpoint has ${sample}${names.length > 3 ? ', ...' : ''})`);
    }
    if (unknown.length > 0) {
      if (!options.ignoreUnknown) {
        throw new FormatError(file, `${unknown.length} variables are not part of an ELECTRA model: ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ', ...' : ''} (pass --ignore-unknown to skip them)`, unknown[0]);
      }
      for (const n of unknown) skipped.set(n, 'not part of an ELECTRA model');
    }

    const hasHead = (prefix: string): boolean => [...plan.keys()].some((n) => n.startsWith(prefix));
    let architecture: ElectraArchitecture;
    if (role === 'generator') architecture = 'ElectraForMaskedLM';
    else architecture = hasHead('discriminator_predictions.') ? 'ElectraForPreTraining' : 'ElectraModel';

    // Shapes after transposition, to infer or check the config before reading any data.
    const shapes = new Map<string, { shape: number[] }>();
    for (const [hf, { tf, transpose }] of plan) {
      const s = ckpt.entries.get(tf)!.shape;
      if (transpose && s.length !== 2) throw new FormatError(file, `kernel '${tf}' has shape ${shapeString(s)}, expected 2-D`, tf);
      shapes.set(hf, { shape: transpose ? [s[1]!, s[0]!] : s.slice() });
    }
    let config: ElectraConfig;
    let notes: string[];
    if (options.config) {
      config = { ...options.config, architectures: [architecture] };
      notes = ['config as given'];
      if (options.config.architectures[0] && options.config.architectures[0] !== architecture) {
        notes.push(`architectures set to ${architecture} for the ${role} (the given config said ${options.config.architectures[0]})`);
      }
    } else {
      ({ config, notes } = inferElectraConfig(shapes, architecture, file, options.numAttentionHeads));
    }
    const spec = electraTensorSpec(config, architecture);
    assertTensorsMatch(
      shapes, spec, file,
      `the ${role} (${architecture}, hidden_size ${config.hidden_size}, ${config.num_hidden_layers} layers, embedding_size ${config.embedding_size})`,
      (hf) => (plan.has(hf) ? `${hf} (TF '${plan.get(hf)!.tf}')` : hf),
    );

    const tensors: TensorMap = new Map();
    for (const s of spec) {
      const { tf, transpose } = plan.get(s.name)!;
      const t = ckpt.readFloat32(tf);
      tensors.set(s.name, transpose ? transpose2d(t) : t);
    }
    return { folder: { config, tensors }, mapped, skipped, notes };
  } finally {
    ckpt.close();
  }
}

/** The reference's variable name for HF tensor `hfName` of `role` (the inverse of mapTfVariable), or null when it has none. */
export function tfVariableFor(hfName: string, role: ElectraRole, generatorOwnEmbeddings = false): TfNameMapping | null {
  const parts = hfName.split('.');
  const param = parts.pop()!;
  let scope: string;
  let modules: string[];
  if (parts[0] === 'electra') {
    modules = parts.slice(1);
    const embeddings = modules[0] === 'embeddings';
    scope = role === 'discriminator' || (embeddings && !generatorOwnEmbeddings) ? 'electra' : 'generator';
  } else if (role === 'discriminator' && parts[0] === 'discriminator_predictions') {
    scope = 'discriminator_predictions';
    modules = parts.slice(1).map((m) => (m === 'dense_prediction' ? 'dense_1' : m));
  } else if (role === 'generator' && parts[0] === 'generator_predictions') {
    scope = 'generator_predictions';
    modules = parts.slice(1);
  } else if (role === 'generator' && hfName === 'generator_lm_head.bias') {
    return { hfName: 'generator_predictions/output_bias', transpose: false };
  } else {
    return null; // e.g. generator_lm_head.weight: the reference ties it to the word embeddings
  }
  const last = modules[modules.length - 1] ?? '';
  let leaf: string;
  let transpose = false;
  if (last.endsWith('_embeddings') && param === 'weight') {
    leaf = modules.pop()!;
  } else if (last === 'LayerNorm') {
    leaf = param === 'weight' ? 'gamma' : 'beta';
  } else {
    leaf = param === 'weight' ? 'kernel' : 'bias';
    transpose = param === 'weight';
  }
  const path = [scope, ...modules, leaf].join('/').replace(/\/layer\/(\d+)\//g, '/layer_$1/');
  return { hfName: path, transpose };
}

/**
 * The reference's variables for a discriminator (ElectraForPreTraining or ElectraModel) and/or a
 * generator (ElectraForMaskedLM) folder, kernels transposed back to [in, out]. The generator's
 * embeddings are the shared electra/embeddings unless they differ from the discriminator's (then
 * generator/embeddings, the reference's untied_generator_embeddings).
 */
export function electraToTfVariables(folders: { discriminator?: ModelFolder; generator?: ModelFolder }): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  const disc = folders.discriminator;
  const gen = folders.generator;
  const sameValues = (a: { data: Float32Array } | undefined, b: { data: Float32Array } | undefined): boolean =>
    !!a && !!b && a.data.length === b.data.length && a.data.every((v, i) => v === b.data[i]);
  const ownEmbeddings = !!disc && !!gen && [...gen.tensors.keys()].filter((n) => n.startsWith('electra.embeddings.'))
    .some((n) => !sameValues(gen.tensors.get(n), disc.tensors.get(n)));
  const add = (folder: ModelFolder, role: ElectraRole): void => {
    for (const [hf, t] of folder.tensors) {
      const m = tfVariableFor(hf, role, ownEmbeddings);
      if (!m) continue;
      if (role === 'generator' && !ownEmbeddings && disc && hf.startsWith('electra.embeddings.')) continue; // written once, by the discriminator
      // Guard: the reader must map the name back to the same tensor.
      const back = mapTfVariable(m.hfName, role, ownEmbeddings);
      if (back.kind !== 'map' || back.mapping.hfName !== hf) throw new Error(`internal: ${hf} -> ${m.hfName} does not map back`);
      out.set(m.hfName, m.transpose ? transpose2d(t) : { shape: t.shape.slice(), data: t.data });
    }
  };
  if (disc) add(disc, 'discriminator');
  if (gen) add(gen, 'generator');
  return out;
}
