// Shared helpers for the data-pipeline tests: fixture paths, temp dirs, reading a dataset back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readManifest } from '../../src/data/manifest.js';
import { ShardReader } from '../../src/data/shards.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (tests run from dist/test/data). */
export const repoRoot = join(here, '..', '..', '..');
export const referenceFixture = join(repoRoot, 'test', 'data', 'fixtures', 'reference');
export const whitespaceTokenizerModule = new URL('./whitespace-tokenizer.js', import.meta.url).href;

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `electra-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ReadBackExample {
  ids: number[];
  boundary: number;
}

/** Every shard of a dataset in shard order, each a list of examples (real ids only). */
export function readShards(dir: string): ReadBackExample[][] {
  const manifest = readManifest(dir);
  return manifest.shards.map((s) => {
    const reader = new ShardReader(join(dir, s.file), { preload: true });
    const ids = new Int32Array(manifest.maxSeqLength);
    const out: ReadBackExample[] = [];
    for (let i = 0; i < reader.numExamples; i++) {
      const [length, boundary] = reader.read(i, ids);
      for (let k = length; k < ids.length; k++) if (ids[k] !== 0) throw new Error(`${s.file}[${i}]: non-zero padding`);
      out.push({ ids: Array.from(ids.subarray(0, length)), boundary });
    }
    return out;
  });
}

/** CRC-32C (Castagnoli, reflected), bit by bit from its definition. */
export function crc32cBitwise(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
