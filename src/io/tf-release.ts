// Google's released ELECTRA checkpoints as shipped: a folder holding a TF checkpoint (`checkpoint`,
// `*.index`, `*.data-*`, maybe `*.meta`) and vocab.txt. On first use it is converted into HF folders
// beside it (<dir>/discriminator, <dir>/generator when the checkpoint has one), which every later use
// finds directly; converted-from-tf.json records which checkpoint they came from, so a replaced
// checkpoint is converted again.
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FormatError } from '../errors.js';
import { writeFileAtomic } from './files.js';
import { readVocabFile, writeHfFolder } from './hf-folder.js';
import { resolveTfCheckpointPrefix, TfCheckpoint } from './tf-checkpoint.js';
import { convertTfCheckpoint } from './tf-electra.js';

export const TF_SOURCE_RECORD = 'converted-from-tf.json';

interface SourceRecord {
  prefix: string;
  indexBytes: number;
  indexMtimeMs: number;
  /** Head counts given by the caller (shapes do not show them); absent: the reference's hidden_size / 64. */
  heads: { discriminator?: number; generator?: number };
}

export interface PrepareTfCheckpointOptions {
  /** One line when a conversion runs. */
  notice?: (line: string) => void;
  /** Head counts the caller's hparams give (default: the reference's rule, max(1, hidden_size / 64)). */
  numAttentionHeads?: { discriminator?: number; generator?: number };
}

/** The TF checkpoint prefix `path` names (a folder with one, a prefix, an .index file), or null when it names none. */
export function findTfCheckpoint(path: string): string | null {
  if (existsSync(`${path}.index`) || (path.endsWith('.index') && existsSync(path))) return resolveTfCheckpointPrefix(path);
  if (!existsSync(path) || !statSync(path).isDirectory()) return null;
  const names = readdirSync(path);
  if (!names.includes('checkpoint') && !names.some((n) => n.endsWith('.index'))) return null;
  return resolveTfCheckpointPrefix(path);
}

function sourceRecord(prefix: string, heads: SourceRecord['heads']): SourceRecord {
  const s = statSync(`${prefix}.index`);
  return { prefix: basename(prefix), indexBytes: s.size, indexMtimeMs: s.mtimeMs, heads };
}

/**
 * When `path` names a TF checkpoint, makes sure HF folders converted from it sit beside it and
 * returns their folder (which resolves like any folder with discriminator/ and generator/);
 * otherwise returns null. `notice` gets one line when a conversion runs.
 */
export function prepareTfCheckpointFolders(path: string, options: PrepareTfCheckpointOptions = {}): string | null {
  const prefix = findTfCheckpoint(path);
  if (!prefix) return null;
  const dir = dirname(prefix);
  const heads = options.numAttentionHeads ?? {};
  const record = sourceRecord(prefix, { ...heads });
  const recordPath = join(dir, TF_SOURCE_RECORD);
  if (existsSync(recordPath) && existsSync(join(dir, 'discriminator', 'config.json'))) {
    try {
      const saved = JSON.parse(readFileSync(recordPath, 'utf8')) as SourceRecord;
      if (JSON.stringify(saved) === JSON.stringify(record)) return dir;
    } catch {
      // unreadable record: convert again
    }
  }
  // The record goes first and comes back last: an interrupted conversion is redone.
  rmSync(recordPath, { force: true });
  const vocabPath = join(dir, 'vocab.txt');
  const vocab = existsSync(vocabPath) ? readVocabFile(vocabPath) : undefined;
  const headsOf = (n: number | undefined): { numAttentionHeads?: number } => (n === undefined ? {} : { numAttentionHeads: n });
  const disc = convertTfCheckpoint(prefix, { role: 'discriminator', ignoreUnknown: true, ...headsOf(heads.discriminator) });
  // A generator only where the checkpoint has one of its own (its encoder and head).
  const ckpt = new TfCheckpoint(prefix);
  const hasGenerator = [...ckpt.entries.keys()].some((n) => n.startsWith('generator/encoder/'));
  ckpt.close();
  const gen = hasGenerator ? convertTfCheckpoint(prefix, { role: 'generator', ignoreUnknown: true, ...headsOf(heads.generator) }) : null;
  for (const r of gen ? [gen, disc] : [disc]) {
    if (vocab && vocab.length !== r.folder.config.vocab_size) {
      throw new FormatError(vocabPath, `has ${vocab.length} tokens but the checkpoint ${prefix} has vocab_size ${r.folder.config.vocab_size}`);
    }
    if (vocab) r.folder.vocab = vocab;
    r.folder.tokenizer = { do_lower_case: true, extra: {} };
  }
  if (gen) writeHfFolder(join(dir, 'generator'), gen.folder, { overwrite: true });
  writeHfFolder(join(dir, 'discriminator'), disc.folder, { overwrite: true });
  writeFileAtomic(recordPath, [JSON.stringify(record, null, 2) + '\n']);
  const c = disc.folder.config;
  options.notice?.(`converted the TensorFlow checkpoint ${prefix} (hidden_size ${c.hidden_size}, ${c.num_hidden_layers} layers, ${c.num_attention_heads} heads, vocab ${c.vocab_size}) ` +
    `into ${join(dir, 'discriminator')}${gen ? ` and ${join(dir, 'generator')}` : ''}; later runs reuse them`);
  return dir;
}
