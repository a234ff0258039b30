// Training checkpoints as folders <dir>/checkpoint-<step>/, shared by pre-training and
// fine-tuning. A checkpoint is built in a hidden staging folder with its state file written
// last, every file and folder fsynced, then renamed into place, so a crash leaves either the
// whole checkpoint or a staging folder the next run deletes. Old checkpoints are renamed away
// before deletion for the same reason; one being replaced by a new checkpoint of the same step is
// renamed aside until the new one is in place, and the next run puts it back if the new one is not.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FormatError } from '../errors.js';
import { DiskFullError, writeFileAtomic } from './files.js';

/** The file that marks a checkpoint complete (written last). */
export const STATE_FILE = 'training_state.json';
const CHECKPOINT_DIR = /^checkpoint-(\d+)$/;
const STAGING_PREFIX = '.checkpoint-';
/** `.checkpoint-<step>.replaced-<tag>`: a complete checkpoint moved aside while its successor is renamed in. */
const ASIDE = /^\.checkpoint-(\d+)\.replaced-[0-9a-f]+$/;

export interface CheckpointInfo {
  step: number;
  dir: string;
}

export function checkpointDirName(step: number): string {
  return `checkpoint-${step}`;
}

/** Complete checkpoints in dir (with a state file), oldest first. */
export function listCheckpoints(dir: string): CheckpointInfo[] {
  if (!existsSync(dir)) return [];
  const out: CheckpointInfo[] = [];
  for (const name of readdirSync(dir)) {
    const m = CHECKPOINT_DIR.exec(name);
    if (!m) continue;
    const path = join(dir, name);
    if (existsSync(join(path, STATE_FILE))) out.push({ step: Number(m[1]), dir: path });
  }
  return out.sort((a, b) => a.step - b.step);
}

export function latestCheckpoint(dir: string): CheckpointInfo | null {
  return listCheckpoints(dir).at(-1) ?? null;
}

/**
 * Cleans up after a killed run: a checkpoint moved aside for a replacement that never arrived is
 * put back; staging, half-deleted and superseded folders are deleted. Returns the deleted names.
 */
export function removeStaleCheckpointFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  for (const name of readdirSync(dir)) {
    const m = ASIDE.exec(name);
    if (!m) continue;
    const final = join(dir, checkpointDirName(Number(m[1])));
    if (existsSync(join(final, STATE_FILE)) || !existsSync(join(dir, name, STATE_FILE))) continue;
    rmSync(final, { recursive: true, force: true }); // not complete: nothing to keep
    renameSync(join(dir, name), final);
    fsyncPath(dir);
  }
  const stale = readdirSync(dir).filter((n) => n.startsWith(STAGING_PREFIX));
  for (const name of stale) rmSync(join(dir, name), { recursive: true, force: true });
  return stale;
}

export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsyncs every file and folder under dir (files written by other helpers included). */
function fsyncTree(dir: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) fsyncTree(path);
    else fsyncPath(path);
  }
  fsyncPath(dir);
}

export interface CheckpointFolderOptions {
  step: number;
  /** Writes the checkpoint's files (all but the state file) into the staging folder. */
  build: (stagingDir: string) => void;
  /** The state, written last as STATE_FILE. */
  state: unknown;
  /** Keep this many newest checkpoints (0: all). */
  keep: number;
  /** Called once build is done, before the state file (crash tests). */
  onStaged?: (stagingDir: string) => void;
}

/** Writes dir/checkpoint-<step> atomically, then removes checkpoints beyond `keep`. Returns its folder. */
export function writeCheckpointFolder(dir: string, opts: CheckpointFolderOptions): string {
  mkdirSync(dir, { recursive: true });
  const final = join(dir, checkpointDirName(opts.step));
  const staging = join(dir, `${STAGING_PREFIX}${opts.step}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(staging);
  try {
    opts.build(staging);
    opts.onStaged?.(staging);
    writeFileAtomic(join(staging, STATE_FILE), [JSON.stringify(opts.state, null, 2) + '\n']);
    fsyncTree(staging);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err instanceof DiskFullError ? new DiskFullError(final, err.code) : err; // the staging name means nothing to a user
  }
  // A checkpoint of this step (an earlier run's) stays whole until the new one is in place: it is
  // renamed aside, not deleted, so a kill at any point leaves one complete checkpoint-<step>.
  const aside = existsSync(final) ? join(dir, `${STAGING_PREFIX}${opts.step}.replaced-${randomBytes(4).toString('hex')}`) : null;
  try {
    if (aside) {
      renameSync(final, aside);
      fsyncPath(dir);
    }
    renameSync(staging, final);
    fsyncPath(dir);
  } catch (err) {
    if (aside && !existsSync(final)) renameSync(aside, final);
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  if (aside) rmSync(aside, { recursive: true, force: true });
  if (opts.keep > 0) {
    for (const old of listCheckpoints(dir).slice(0, -opts.keep)) retireCheckpoint(dir, old.dir);
  }
  return final;
}

/** Deletes a checkpoint, renaming it to a staging name first so a crash mid-delete never leaves a half checkpoint. */
export function retireCheckpoint(dir: string, checkpoint: string): void {
  const doomed = join(dir, `${STAGING_PREFIX}deleting-${randomBytes(4).toString('hex')}`);
  renameSync(checkpoint, doomed);
  fsyncPath(dir);
  rmSync(doomed, { recursive: true, force: true });
}

/**
 * A checkpoint's state file, checked to be of `format` and `version` and to hold the given
 * fields as non-negative integers (further checks are the caller's).
 */
export function readCheckpointState<T extends { format: string; version: number }>(
  dir: string, format: T['format'], version: number, integerFields: readonly (keyof T & string)[],
): T {
  const path = join(dir, STATE_FILE);
  let state: T;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new FormatError(path, `cannot read the training state: ${(err as Error).message}`);
  }
  if (state.format !== format) throw new FormatError(path, `"format" is ${JSON.stringify(state.format)}, expected "${format}"`);
  if (state.version !== version) throw new FormatError(path, `"version" is ${state.version}; this electra-ts reads version ${version}`);
  for (const key of integerFields) {
    const value = state[key];
    if (!(Number.isInteger(value) && (value as number) >= 0)) {
      throw new FormatError(path, `"${key}" must be a non-negative integer, got ${JSON.stringify(value)}`);
    }
  }
  return state;
}
