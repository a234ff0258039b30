// HuggingFace model folders: config.json, weights (model.safetensors, sharded safetensors,
// pytorch_model.bin, sharded .bin), vocab.txt / tokenizer.json and tokenizer_config.json.
// Reading maps the state dict to canonical names (base model under "electra."), drops buffers
// and the tied LM-head weight, and checks every tensor against the config. Writing produces
// what transformers' save_pretrained writes for these classes, all files at once or none.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError, UsageError } from '../errors.js';
import { electraConfigText, parseElectraConfig, type ElectraArchitecture, type ElectraConfig } from './hf-config.js';
import { assertTensorsMatch, electraTensorSpec, inferArchitecture, type TensorSpec } from './electra-names.js';
import { readSafetensors } from './safetensors.js';
import { DEFAULT_MAX_SHARD_BYTES, readShardIndex, readShardedSafetensors, shardFiles, writeSafetensorsWeights } from './sharded.js';
import { readTorchStateDict } from './torch.js';
import { writeFileAtomic, writeFolderAtomic } from './files.js';
import { describeJsonError } from '../util/json.js';
import { shapeString, type TensorMap } from './tensor.js';

export interface TokenizerSettings {
  /** Lower-case (and strip accents from) text before WordPiece, as uncased ELECTRA models do. */
  do_lower_case: boolean;
  /** Other tokenizer_config.json keys, kept as they are. */
  extra: Record<string, unknown>;
}

/** A model folder in memory. Tensor names are canonical (base model under "electra."). */
export interface ModelFolder {
  config: ElectraConfig;
  tensors: TensorMap;
  /** WordPiece vocabulary, token per id. */
  vocab?: string[];
  tokenizer?: TokenizerSettings;
}

/** A model folder as read from disk: config, vocabulary, weights and where they came from. */
export interface LoadedModelFolder extends ModelFolder {
  dir: string;
  architecture: ElectraArchitecture;
  weightFormat: 'safetensors' | 'pytorch';
  weightFiles: string[];
  /** The dtype each tensor had on disk (e.g. F16, float16), by canonical name. */
  sourceDtypes: Map<string, string>;
}

/** Options of readHfFolder: whether and against what to check the tensors. */
export interface ReadHfFolderOptions {
  /** Check tensors against the config's architecture (default true). */
  validate?: boolean;
  /** Check against this spec instead of the one derived from the config. */
  spec?: TensorSpec[];
}

/** Non-parameter buffers older transformers versions saved into the state dict. */
const BUFFERS = new Set(['electra.embeddings.position_ids', 'electra.embeddings.token_type_ids']);
const BASE_PREFIXES = ['embeddings.', 'embeddings_project.', 'encoder.'];

/** Canonical name of a state-dict key: bare ElectraModel keys get the "electra." prefix. */
export function canonicalTensorName(key: string): string {
  return BASE_PREFIXES.some((p) => key.startsWith(p)) ? `electra.${key}` : key;
}

/** The state-dict key transformers uses for a canonical name in `architecture`'s files. */
export function stateDictKey(name: string, architecture: ElectraArchitecture): string {
  return architecture === 'ElectraModel' && name.startsWith('electra.') ? name.slice('electra.'.length) : name;
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new FormatError(path, `cannot read: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FormatError(path, `invalid JSON at ${describeJsonError(text, err as Error)}`);
  }
}

/** Reads vocab.txt: one token per line, ids in line order. */
export function readVocabFile(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new FormatError(path, 'vocabulary is empty');
  return lines;
}

/** The WordPiece vocabulary and lower-casing of a tokenizer.json (fast tokenizer) file. */
function readTokenizerJson(path: string): { vocab: string[]; lowercase: boolean | undefined } {
  const json = readJson(path) as Record<string, unknown>;
  const model = json['model'] as Record<string, unknown> | undefined;
  if (!model || model['type'] !== 'WordPiece' || typeof model['vocab'] !== 'object' || model['vocab'] === null) {
    throw new FormatError(path, 'tokenizer.json has no WordPiece model vocabulary');
  }
  const entries = Object.entries(model['vocab'] as Record<string, unknown>);
  const vocab = new Array<string>(entries.length);
  for (const [token, id] of entries) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0 || id >= entries.length || vocab[id] !== undefined) {
      throw new FormatError(path, `vocabulary ids must be 0..${entries.length - 1}, each once; token ${JSON.stringify(token)} has ${JSON.stringify(id)}`);
    }
    vocab[id] = token;
  }
  const normalizer = json['normalizer'] as Record<string, unknown> | null | undefined;
  const lowercase = normalizer && typeof normalizer['lowercase'] === 'boolean' ? (normalizer['lowercase'] as boolean) : undefined;
  return { vocab, lowercase };
}

function readTokenizer(dir: string): { vocab?: string[]; tokenizer?: TokenizerSettings } {
  const out: { vocab?: string[]; tokenizer?: TokenizerSettings } = {};
  let lowercase: boolean | undefined;
  const vocabPath = join(dir, 'vocab.txt');
  const fastPath = join(dir, 'tokenizer.json');
  if (existsSync(vocabPath)) out.vocab = readVocabFile(vocabPath);
  else if (existsSync(fastPath)) ({ vocab: out.vocab, lowercase } = readTokenizerJson(fastPath));
  const configPath = join(dir, 'tokenizer_config.json');
  if (existsSync(configPath)) {
    const json = readJson(configPath);
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new FormatError(configPath, 'must be a JSON object');
    const { do_lower_case: lower, ...extra } = json as Record<string, unknown>;
    if (lower !== undefined && typeof lower !== 'boolean') throw new FormatError(configPath, `"do_lower_case" must be true or false, got ${JSON.stringify(lower)}`);
    // ElectraTokenizer lower-cases unless told otherwise.
    out.tokenizer = { do_lower_case: (lower as boolean | undefined) ?? lowercase ?? true, extra };
  } else if (out.vocab) {
    out.tokenizer = { do_lower_case: lowercase ?? true, extra: {} };
  }
  return out;
}

interface RawWeights {
  format: 'safetensors' | 'pytorch';
  files: string[];
  tensors: TensorMap;
  dtypes: Map<string, string>;
}

function readWeights(dir: string): RawWeights {
  const st = join(dir, 'model.safetensors');
  const stIndex = join(dir, 'model.safetensors.index.json');
  const bin = join(dir, 'pytorch_model.bin');
  const binIndex = join(dir, 'pytorch_model.bin.index.json');
  if (existsSync(st)) {
    const r = readSafetensors(st);
    return { format: 'safetensors', files: ['model.safetensors'], tensors: r.tensors, dtypes: r.dtypes };
  }
  if (existsSync(stIndex)) {
    const r = readShardedSafetensors(stIndex);
    return { format: 'safetensors', files: ['model.safetensors.index.json', ...r.files], tensors: r.tensors, dtypes: r.dtypes };
  }
  if (existsSync(bin)) {
    const r = readTorchStateDict(bin);
    return { format: 'pytorch', files: ['pytorch_model.bin'], tensors: r.tensors, dtypes: r.dtypes };
  }
  if (existsSync(binIndex)) {
    const index = readShardIndex(binIndex);
    const tensors: TensorMap = new Map();
    const dtypes = new Map<string, string>();
    const files = [...shardFiles(index).entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    for (const [file, names] of files) {
      const path = join(dir, file);
      if (!existsSync(path)) throw new FormatError(binIndex, `shard '${file}' listed in weight_map does not exist`);
      const r = readTorchStateDict(path);
      for (const name of names) {
        const t = r.tensors.get(name);
        if (!t) throw new FormatError(path, `tensor '${name}' is assigned to this shard by pytorch_model.bin.index.json but is not in it`, name);
        tensors.set(name, t);
        dtypes.set(name, r.dtypes.get(name)!);
      }
      for (const name of r.tensors.keys()) {
        if (!names.has(name)) throw new FormatError(path, `tensor '${name}' is in this shard but the index does not put it here`, name);
      }
    }
    return { format: 'pytorch', files: ['pytorch_model.bin.index.json', ...files.map(([f]) => f)], tensors, dtypes };
  }
  const others = ['tf_model.h5', 'flax_model.msgpack'].filter((f) => existsSync(join(dir, f)));
  throw new UsageError(
    `${dir} has no PyTorch weights (model.safetensors, model.safetensors.index.json, pytorch_model.bin or pytorch_model.bin.index.json)` +
      (others.length ? `; only ${others.join(', ')}, which electra-ts cannot read` : ''),
  );
}

/** Reads an HF ELECTRA model folder; throws naming the file and tensor on any mismatch. */
export function readHfFolder(dir: string, options: ReadHfFolderOptions = {}): LoadedModelFolder {
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) throw new UsageError(`${dir} is not a model folder: no config.json`);
  const config = parseElectraConfig(readJson(configPath), configPath);
  const raw = readWeights(dir);
  const weightsFile = join(dir, raw.files[0]!);

  const tensors: TensorMap = new Map();
  const sourceDtypes = new Map<string, string>();
  for (const [key, t] of raw.tensors) {
    const name = canonicalTensorName(key);
    if (BUFFERS.has(name)) continue;
    if (tensors.has(name)) throw new FormatError(weightsFile, `tensor '${name}' appears twice (as '${key}' and with the electra. prefix)`, name);
    tensors.set(name, t);
    sourceDtypes.set(name, raw.dtypes.get(key)!);
  }
  const architecture = config.architectures[0] ?? inferArchitecture(tensors.keys());
  if (config.architectures.length === 0) config.architectures = [architecture];
  if (architecture === 'ElectraForMaskedLM' && config.tie_word_embeddings) {
    // Tied: the LM head is the word embedding matrix; some writers store a copy, others don't.
    const head = tensors.get('generator_lm_head.weight');
    const emb = tensors.get('electra.embeddings.word_embeddings.weight');
    if (head && emb && shapeString(head.shape) !== shapeString(emb.shape)) {
      throw new FormatError(weightsFile, `generator_lm_head.weight is ${shapeString(head.shape)} but it is tied to the word embeddings ${shapeString(emb.shape)}`, 'generator_lm_head.weight');
    }
    tensors.delete('generator_lm_head.weight');
    sourceDtypes.delete('generator_lm_head.weight');
  }
  if (options.validate ?? true) {
    const spec = options.spec ?? electraTensorSpec(config, architecture);
    assertTensorsMatch(tensors, spec, weightsFile, `${architecture} as configured in config.json (hidden_size ${config.hidden_size}, ${config.num_hidden_layers} layers, embedding_size ${config.embedding_size}, vocab_size ${config.vocab_size})`);
  }
  const tok = readTokenizer(dir);
  if (tok.vocab && tok.vocab.length > config.vocab_size) {
    throw new FormatError(join(dir, existsSync(join(dir, 'vocab.txt')) ? 'vocab.txt' : 'tokenizer.json'), `vocabulary has ${tok.vocab.length} tokens but config.json says vocab_size ${config.vocab_size}`);
  }
  const folder: LoadedModelFolder = {
    dir, config, tensors, architecture, weightFormat: raw.format, weightFiles: raw.files, sourceDtypes,
  };
  if (tok.vocab) folder.vocab = tok.vocab;
  if (tok.tokenizer) folder.tokenizer = tok.tokenizer;
  return folder;
}

/** Options of writeHfFolder: shard size, overwriting, checking. */
export interface WriteHfFolderOptions {
  /** Shard the weights above this many bytes (default transformers' 5 GB). */
  maxShardBytes?: number;
  /** Replace an existing model folder's files (weights of other layouts are removed). */
  overwrite?: boolean;
  /** Check tensors against the config before writing (default true). */
  validate?: boolean;
}

const WEIGHT_FILE = /^(model(-\d{5}-of-\d{5})?\.safetensors|model\.safetensors\.index\.json|pytorch_model(-\d{5}-of-\d{5})?\.bin|pytorch_model\.bin\.index\.json|tf_model\.h5|flax_model\.msgpack)$/;

/** The tokenizer_config.json transformers writes for an ElectraTokenizer. */
function tokenizerConfigJson(settings: TokenizerSettings, config: ElectraConfig): Record<string, unknown> {
  return {
    cls_token: '[CLS]',
    mask_token: '[MASK]',
    model_max_length: config.max_position_embeddings,
    pad_token: '[PAD]',
    sep_token: '[SEP]',
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: 'ElectraTokenizer',
    unk_token: '[UNK]',
    ...settings.extra,
    do_lower_case: settings.do_lower_case,
  };
}

/**
 * Writes `folder` to `dir` as transformers would save it: config.json, model.safetensors (F32;
 * sharded with an index above maxShardBytes), vocab.txt, tokenizer_config.json and
 * special_tokens_map.json. Nothing is changed in `dir` unless every file was written.
 */
export function writeHfFolder(dir: string, folder: ModelFolder, options: WriteHfFolderOptions = {}): string[] {
  const { config } = folder;
  const architecture = config.architectures[0];
  if (!architecture) throw new UsageError('config.architectures is empty: say which model class the weights are for');
  if (options.validate ?? true) {
    assertTensorsMatch(folder.tensors, electraTensorSpec(config, architecture), join(dir, 'model.safetensors'), `${architecture} as configured`);
  }
  if (folder.vocab && folder.vocab.length > config.vocab_size) {
    throw new UsageError(`the vocabulary has ${folder.vocab.length} tokens but vocab_size is ${config.vocab_size}`);
  }
  if (!options.overwrite && existsSync(dir)) {
    const clash = readdirSync(dir).filter((n) => n === 'config.json' || WEIGHT_FILE.test(n));
    if (clash.length > 0) throw new UsageError(`${dir} already holds a model (${clash.join(', ')}); pass overwrite to replace it`);
  }
  const stateDict: TensorMap = new Map();
  for (const [name, t] of folder.tensors) stateDict.set(stateDictKey(name, architecture), t);

  return writeFolderAtomic(
    dir,
    (staging) => {
      writeFileAtomic(join(staging, 'config.json'), [electraConfigText(config)]);
      writeSafetensorsWeights(staging, stateDict, options.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES);
      if (folder.vocab) writeFileAtomic(join(staging, 'vocab.txt'), [folder.vocab.join('\n') + '\n']);
      if (folder.tokenizer || folder.vocab) {
        const settings = folder.tokenizer ?? { do_lower_case: true, extra: {} };
        writeFileAtomic(join(staging, 'tokenizer_config.json'), [JSON.stringify(tokenizerConfigJson(settings, config), null, 2) + '\n']);
        const special = { cls_token: '[CLS]', mask_token: '[MASK]', pad_token: '[PAD]', sep_token: '[SEP]', unk_token: '[UNK]' };
        writeFileAtomic(join(staging, 'special_tokens_map.json'), [JSON.stringify(special, null, 2) + '\n']);
      }
    },
    // Weights in another layout would shadow or contradict the new ones; a stale fast tokenizer
    // would override the new vocab.txt.
    (existing) => existing.filter((n) => WEIGHT_FILE.test(n) || (folder.vocab !== undefined && n === 'tokenizer.json')),
  );
}
