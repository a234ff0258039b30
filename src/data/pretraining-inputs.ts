// What `pretrain_tfrecords` names, in the reference's forms and ours: a folder (a built dataset with
// manifest.json, or any folder of pretrain_data.tfrecord* and shard-*.bin files), a glob such as
// DIR/pretrain_data.tfrecord*, a single file, or a comma-separated list of these, expanded in order.
import { closeSync, existsSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { MANIFEST_FILE, readManifest, type PretrainingManifest } from './manifest.js';
import { SHARD_FILE_PATTERN, SHARD_MAGIC } from './shards.js';
import { TFRECORD_FILE_PATTERN } from './tfrecord-shards.js';

export type InputFileKind = 'shard' | 'tfrecord';

export interface InputFile {
  path: string;
  kind: InputFileKind;
  bytes: number;
}

/** Files to read, in order; a built dataset's files come with its manifest. */
export interface InputGroup {
  /** The built dataset (folder with manifest.json) these files belong to, or null for loose files. */
  manifest: { dir: string; manifest: PretrainingManifest } | null;
  files: InputFile[];
}

const GLOB_CHARS = /[*?[]/;

/** Shards start with our magic; anything else is read as TFRecords (which check their own framing). */
function kindOf(path: string): InputFileKind {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(8);
    const n = readSync(fd, head, 0, 8, 0);
    return n === 8 && head.toString('latin1') === SHARD_MAGIC ? 'shard' : 'tfrecord';
  } finally {
    closeSync(fd);
  }
}

function inputFile(path: string): InputFile {
  return { path, kind: kindOf(path), bytes: statSync(path).size };
}

/** A glob's last path component as a RegExp (*, ?, [...] as in fnmatch). */
function globRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 1);
      if (close < 0) re += '\\[';
      else {
        const body = pattern.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function manifestGroup(dir: string): InputGroup {
  const manifest = readManifest(dir);
  return {
    manifest: { dir, manifest },
    files: manifest.shards.map((s) => {
      const path = join(dir, s.file);
      if (!existsSync(path)) throw new UsageError(`${path} is missing: ${join(dir, MANIFEST_FILE)} lists it (rerun build-pretraining-dataset)`);
      return { path, kind: manifest.outputFormat === 'tfrecord' ? 'tfrecord' as const : 'shard' as const, bytes: statSync(path).size };
    }),
  };
}

/** Expands one comma-separated item. */
function resolveItem(item: string): InputGroup {
  const path = resolve(item);
  if (!GLOB_CHARS.test(basename(path))) {
    let st;
    try {
      st = statSync(path);
    } catch {
      throw new UsageError(`pretrain_tfrecords: ${path} does not exist`);
    }
    if (st.isFile()) return { manifest: null, files: [inputFile(path)] };
    if (existsSync(join(path, MANIFEST_FILE))) return manifestGroup(path);
    const names = readdirSync(path).filter((n) => TFRECORD_FILE_PATTERN.test(n) || n.startsWith('pretrain_data.tfrecord') || SHARD_FILE_PATTERN.test(n)).sort();
    if (names.length === 0) {
      throw new UsageError(`pretrain_tfrecords: ${path} holds no pre-training data (no manifest.json, pretrain_data.tfrecord* or shard-*.bin files)`);
    }
    return { manifest: null, files: names.map((n) => inputFile(join(path, n))) };
  }
  const dir = dirname(path);
  if (GLOB_CHARS.test(dir)) throw new UsageError(`pretrain_tfrecords: '${item}': wildcards are supported in the file name only`);
  // The reference's default glob over a folder we built: the built dataset (its manifest carries the checks).
  if (basename(path) === 'pretrain_data.tfrecord*' && existsSync(join(dir, MANIFEST_FILE))) return manifestGroup(dir);
  const re = globRegExp(basename(path));
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => re.test(n) && !n.endsWith('.partial')).sort();
  } catch {
    throw new UsageError(`pretrain_tfrecords: folder ${dir} does not exist`);
  }
  names = names.filter((n) => statSync(join(dir, n)).isFile());
  if (names.length === 0) throw new UsageError(`pretrain_tfrecords: '${item}' matches no files`);
  return { manifest: null, files: names.map((n) => inputFile(join(dir, n))) };
}

/** Resolves `pretrain_tfrecords` into groups of files; an error names the item that found nothing. */
export function resolvePretrainingInputs(spec: string): InputGroup[] {
  const items = spec.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new UsageError('pretrain_tfrecords is empty');
  return items.map(resolveItem);
}
