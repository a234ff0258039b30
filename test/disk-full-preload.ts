// A full disk for a child process: `node --import <this file>` makes the process's synchronous
// writes (fs.writeSync, writeFileSync, appendFileSync) fail with ENOSPC once ENOSPC_AFTER_BYTES
// bytes have been written, the last write taking only what is left, as a real disk does. Without
// the variable nothing fails; ENOSPC_REPORT names a file that receives the bytes written, so a
// test can size the budget from a full run. Worker threads get their own budget.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const limit = process.env['ENOSPC_AFTER_BYTES'] ? Number(process.env['ENOSPC_AFTER_BYTES']) : Infinity;
const report = process.env['ENOSPC_REPORT'];
let used = 0;

function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
}

/** How many of `n` bytes fit; throws ENOSPC when none do. */
function take(n: number): number {
  const fit = Math.min(n, Math.max(0, limit - used));
  if (fit === 0 && n > 0) throw enospc();
  used += fit;
  return fit;
}

function bytesOf(data: unknown, encoding?: unknown): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, (typeof encoding === 'string' ? encoding : 'utf8') as BufferEncoding);
  const v = data as ArrayBufferView;
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

const original = { writeSync: fs.writeSync, writeFileSync: fs.writeFileSync, appendFileSync: fs.appendFileSync };

fs.writeSync = ((fd: number, data: unknown, ...rest: unknown[]): number => {
  if (typeof data === 'string') {
    const bytes = bytesOf(data, rest[1]);
    return original.writeSync(fd, bytes, 0, take(bytes.length), rest[0] as number | null | undefined);
  }
  const view = bytesOf(data);
  const offset = (rest[0] as number | undefined) ?? 0;
  const length = (rest[1] as number | undefined) ?? view.length - offset;
  return original.writeSync(fd, view, offset, take(length), rest[2] as number | null | undefined);
}) as typeof fs.writeSync;

/** writeFileSync/appendFileSync: what fits is written, then ENOSPC. */
function budgeted(write: (path: fs.PathOrFileDescriptor, data: Uint8Array) => void) {
  return (path: fs.PathOrFileDescriptor, data: unknown, options?: unknown): void => {
    const bytes = bytesOf(data, typeof options === 'string' ? options : (options as { encoding?: string } | undefined)?.encoding);
    const fit = Math.min(bytes.length, Math.max(0, limit - used));
    used += fit;
    write(path, bytes.subarray(0, fit));
    if (fit < bytes.length) throw enospc();
  };
}
fs.writeFileSync = budgeted((p, b) => original.writeFileSync(p, b)) as typeof fs.writeFileSync;
fs.appendFileSync = budgeted((p, b) => original.appendFileSync(p, b)) as typeof fs.appendFileSync;
syncBuiltinESMExports();

if (report) process.on('exit', () => original.writeFileSync(report, String(used)));
