// Shared test utilities: which backends to test, and float comparisons.
import assert from 'node:assert/strict';
import { jsKernels, nativeKernels, type Kernels } from '../src/kernels/index.js';

/** Backends under test: js always; native unless ELECTRA_BACKEND=js. CI sets ELECTRA_REQUIRE_NATIVE. */
export function backends(): Kernels[] {
  const list: Kernels[] = [jsKernels];
  if ((process.env.ELECTRA_BACKEND ?? '').toLowerCase() === 'js') return list;
  const nk = nativeKernels();
  if (nk) list.push(nk);
  else if (process.env.ELECTRA_REQUIRE_NATIVE) throw new Error('ELECTRA_REQUIRE_NATIVE is set but the native addon did not load');
  return list;
}

/** Deterministic pseudo-random floats in [-scale, scale). */
export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

/** Asserts |actual - expected| <= atol + rtol * |expected| everywhere, naming the first failure. */
export function assertClose(
  actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number, what = 'array',
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const ok = Math.abs(a - e) <= atol + rtol * Math.abs(e) || (Number.isNaN(a) && Number.isNaN(e));
    if (!ok) assert.fail(`${what}[${i}]: got ${a}, expected ${e} (atol ${atol}, rtol ${rtol})`);
  }
}

/**
 * Runs `electra <args>` in-process, capturing stdout and stderr; a rejection is reported as the
 * bin script reports it (exit 1, `electra: message`).
 */
export async function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { main } = await import('../src/cli/main.js');
  const out: string[] = [];
  const err: string[] = [];
  const write = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  process.stdout.write = ((c: string | Uint8Array) => out.push(String(c)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => err.push(String(c)) > 0) as typeof process.stderr.write;
  try {
    const code = await main(args).catch((e: Error) => {
      err.push(`electra: ${e.message}\n`);
      return 1;
    });
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}
