// Between the pre-training model's parameter arena and HuggingFace model folders: the
// discriminator as ElectraForPreTraining, the generator as ElectraForMaskedLM, each parameter
// under the HF name(s) the model declared (the shared embeddings go to both folders).
import type { ElectraArchitecture, ElectraConfig as HfElectraConfig } from '../io/hf-config.js';
import { FormatError } from '../errors.js';
import type { LoadedModelFolder, ModelFolder } from '../io/hf-folder.js';
import { shapeString, type TensorMap } from '../io/tensor.js';
import { hfConfigFromModel, type ElectraConfig } from '../model/config.js';
import type { ParameterSet } from '../nn/params.js';

export type HfRole = 'discriminator' | 'generator';

export const ROLE_ARCHITECTURE: Record<HfRole, ElectraArchitecture> = {
  discriminator: 'ElectraForPreTraining',
  generator: 'ElectraForMaskedLM',
};

/** The config.json of one of the exported models. */
export function hfConfigFor(cfg: ElectraConfig, role: HfRole): HfElectraConfig {
  return hfConfigFromModel(cfg, ROLE_ARCHITECTURE[role]);
}

/** Fields whose difference makes weights unusable for a model (dropout and init may differ). */
const SHAPE_FIELDS = [
  'vocab_size', 'embedding_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size',
  'max_position_embeddings', 'type_vocab_size', 'layer_norm_eps',
] as const;

/**
 * Throws naming the first field where a folder's config differs from the model's, e.g.
 * "hidden_size is 256 in .../config.json but the hparams give 64 (hint)".
 */
export function assertSameShape(expected: ElectraConfig, actual: ElectraConfig, file: string, what: string, hint = ''): void {
  for (const f of SHAPE_FIELDS) {
    if (expected[f] !== actual[f]) {
      throw new FormatError(file, `${what}: "${f}" is ${actual[f]} here but the hparams give ${expected[f]}${hint ? ` (${hint})` : ''}`);
    }
  }
}

/** The tensors of one exported model: views of the arena (copy before mutating the model). */
export function hfTensors(params: ParameterSet, role: HfRole): TensorMap {
  const tensors: TensorMap = new Map();
  for (const { name, ref } of params.hfStateDict(role)) {
    const data = ref.value instanceof Float32Array ? ref.value : Float32Array.from(ref.value);
    tensors.set(name, { shape: [...ref.shape], data });
  }
  return tensors;
}

/** One exported model as a writable folder (vocab and lower-casing for its tokenizer files). */
export function hfFolderFor(params: ParameterSet, cfg: ElectraConfig, role: HfRole, vocab: string[], doLowerCase: boolean): ModelFolder {
  return {
    config: hfConfigFor(cfg, role),
    tensors: hfTensors(params, role),
    vocab,
    tokenizer: { do_lower_case: doLowerCase, extra: {} },
  };
}

export interface LoadReport {
  /** Parameter names (canonical, in the arena) filled from a folder. */
  loaded: string[];
  /** Parameters no folder held (left as they were, e.g. freshly initialized). */
  notLoaded: string[];
  /** Shared parameters whose copies in the two folders differ (the discriminator's was used). */
  differing: string[];
}

/**
 * Copies weights from HF folders into the parameter set by HF name. A parameter shared by both
 * models (the embeddings) is taken from the discriminator folder when both hold it. Shapes must
 * match exactly; tensors a folder holds that no parameter wants are an error.
 */
export function loadHfWeights(params: ParameterSet, folders: Partial<Record<HfRole, LoadedModelFolder>>): LoadReport {
  const report: LoadReport = { loaded: [], notLoaded: [], differing: [] };
  const used: Record<HfRole, Set<string>> = { discriminator: new Set(), generator: new Set() };
  for (const ref of params.entries) {
    let done = false;
    const order = [...ref.hfNames].sort((a, b) => (a.model === b.model ? 0 : a.model === 'discriminator' ? -1 : 1));
    for (const { model, name } of order) {
      const folder = folders[model];
      if (!folder) continue;
      const t = folder.tensors.get(name);
      const file = `${folder.dir}/${folder.weightFiles[0] ?? 'model.safetensors'}`;
      if (!t) throw new FormatError(file, `tensor '${name}' is missing (the ${model} needs it for ${ref.name})`, name);
      used[model].add(name);
      if (t.shape.length !== ref.shape.length || t.shape.some((d, i) => d !== ref.shape[i])) {
        throw new FormatError(file, `tensor '${name}' is ${shapeString(t.shape)} but the model's ${ref.name} is ${shapeString(ref.shape)}`, name);
      }
      if (!done) {
        ref.value.set(t.data);
        params.valuesChanged();
        done = true;
      } else if (!sameValues(ref.value, t.data)) {
        report.differing.push(ref.name);
      }
    }
    (done ? report.loaded : report.notLoaded).push(ref.name);
  }
  for (const role of ['discriminator', 'generator'] as const) {
    const folder = folders[role];
    if (!folder) continue;
    const extra = [...folder.tensors.keys()].filter((n) => !used[role].has(n));
    if (extra.length > 0) {
      throw new FormatError(`${folder.dir}/${folder.weightFiles[0] ?? 'model.safetensors'}`,
        `${extra.length} tensors are not part of the ${role}: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', ...' : ''}`, extra[0]);
    }
  }
  return report;
}

function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
