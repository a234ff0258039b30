// File helpers shared by the readers and writers: exact positional reads that report
// truncation clearly, and writes that never leave a partial file or folder behind.
import {
  accessSync, closeSync, constants as fsConstants, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, readdirSync, renameSync, rmSync,
  statSync, writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FormatError, UsageError } from '../errors.js';

/** A file opened for positional reads. */
export class RandomAccessFile {
  readonly path: string;
  readonly size: number;
  private fd: number;

  constructor(path: string) {
    this.path = path;
    this.fd = openSync(path, 'r');
    try {
      this.size = fstatSync(this.fd).size;
    } catch (err) {
      closeSync(this.fd);
      throw err;
    }
  }

  /** Exactly `length` bytes at `position`, or a FormatError saying what was cut off. */
  read(position: number, length: number, what: string, tensor?: string): Uint8Array {
    if (position < 0 || length < 0 || position + length > this.size) {
      throw new FormatError(
        this.path,
        `truncated: ${what} needs bytes ${position}..${position + length} but the file has ${this.size} bytes`,
        tensor,
      );
    }
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, out, done, length - done, position + done);
      if (n <= 0) throw new FormatError(this.path, `unexpected end of file while reading ${what}`, tensor);
      done += n;
    }
    return out;
  }

  close(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}

/** Opens `path` for reading, runs `fn`, closes it. */
export function withFile<T>(path: string, fn: (file: RandomAccessFile) => T): T {
  const file = new RandomAccessFile(path);
  try {
    return fn(file);
  } finally {
    file.close();
  }
}

const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** A write that failed for lack of space: a runtime failure whose message names the file and what to do. */
export class DiskFullError extends Error {
  constructor(readonly path: string, readonly code: string) {
    super(`${path}: cannot write: ${code === 'EFBIG' ? 'the file size limit is reached' : 'no space left on the disk'} (${code}); ` +
      'complete files written before are kept: free some space and run the same command again');
    this.name = 'DiskFullError';
  }
}

/** `err` as a DiskFullError naming `path` when it is one (ENOSPC, EDQUOT, EFBIG), else unchanged. */
export function asDiskFull(err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && DISK_FULL_CODES.has(code) ? new DiskFullError(path, code) : err;
}

function tempName(path: string, tag: string): string {
  return join(dirname(path), `.${basename(path)}.${tag}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** Writes the chunks to a temporary sibling, syncs it, then renames it over `path`. */
export function writeFileAtomic(path: string, chunks: Iterable<Uint8Array | string>): void {
  const tmp = tempName(path, 'tmp');
  const fd = openSync(tmp, 'w');
  let ok = false;
  try {
    for (const chunk of chunks) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    }
    fsyncSync(fd);
    ok = true;
  } catch (err) {
    throw asDiskFull(err, path);
  } finally {
    closeSync(fd);
    if (!ok) rmSync(tmp, { force: true });
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Builds a folder's files in a hidden staging folder beside `dir`, then moves them into `dir`
 * (created if needed) only once all of them were written. `staleFiles` (names in `dir` that the
 * new contents replace, e.g. the other weight layout) are removed after the move. On any error
 * the staging folder is deleted and `dir` is left as it was.
 */
export function writeFolderAtomic(
  dir: string,
  build: (stagingDir: string) => void,
  staleFiles: (existing: string[], written: string[]) => string[] = () => [],
): string[] {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const staging = tempName(dir, 'partial');
  mkdirSync(staging);
  try {
    build(staging);
    const written = readdirSync(staging).sort();
    mkdirSync(dir, { recursive: true });
    if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a folder`);
    const existing = readdirSync(dir);
    for (const name of written) renameSync(join(staging, name), join(dir, name));
    for (const name of staleFiles(existing, written)) {
      if (!written.includes(name) && existsSync(join(dir, name))) rmSync(join(dir, name), { force: true });
    }
    return written;
  } catch (err) {
    throw err instanceof DiskFullError ? new DiskFullError(dir, err.code) : err; // the staging name means nothing to a user
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The nearest of `path` and its ancestors that exists, with its stats. */
function nearestExisting(path: string): { path: string; isDirectory: boolean } {
  for (let p = path; ; p = dirname(p)) {
    try {
      return { path: p, isDirectory: statSync(p).isDirectory() };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(p) === p) throw err;
    }
  }
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, fsConstants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks, before any work, that `dir` is or can become a folder to write in; throws a UsageError
 * saying what is in the way (`what` names the flag or role, e.g. '--output-dir'). Creates nothing.
 */
export function checkOutputFolder(dir: string, what: string): void {
  const found = nearestExisting(dir);
  if (found.path === dir) {
    if (!found.isDirectory) throw new UsageError(`${what} ${dir} is a file, not a folder`);
    if (!writable(dir)) throw new UsageError(`${what} ${dir} is not writable`);
    return;
  }
  if (!found.isDirectory) throw new UsageError(`${what} ${dir} cannot be created: ${found.path} is a file, not a folder`);
  if (!writable(found.path)) throw new UsageError(`${what} ${dir} cannot be created: ${found.path} is not writable`);
}

/** As checkOutputFolder, for a file to be written (atomically) at `file`. */
export function checkOutputFile(file: string, what: string): void {
  const found = nearestExisting(file);
  if (found.path === file) {
    if (found.isDirectory) throw new UsageError(`${what} ${file} is a folder, not a file`);
    if (!writable(dirname(file))) throw new UsageError(`${what} ${file} cannot be written: ${dirname(file)} is not writable`);
    return;
  }
  if (!found.isDirectory) throw new UsageError(`${what} ${file} cannot be written: ${found.path} is a file, not a folder`);
  if (!writable(found.path)) throw new UsageError(`${what} ${file} cannot be written: ${found.path} is not writable`);
}
