// Small helpers for the io tests: scratch folders and error assertions.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { FormatError } from '../../src/errors.js';

const made: string[] = [];
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A fresh scratch folder, removed when the test file finishes. */
export function scratchDir(tag = 'io'): string {
  const d = mkdtempSync(join(tmpdir(), `electra-${tag}-`));
  made.push(d);
  return d;
}

/** Asserts `fn` throws a FormatError whose message contains every fragment (and names `tensor`, if given). */
export function assertFormatError(fn: () => unknown, fragments: Array<string | RegExp>, tensor?: string): FormatError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof FormatError, `expected a FormatError, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  const err = caught as FormatError;
  for (const f of fragments) {
    if (typeof f === 'string') assert.ok(err.message.includes(f), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(f)}`);
    else assert.match(err.message, f);
  }
  if (tensor !== undefined) assert.equal(err.tensor, tensor, `error should name tensor ${tensor}: ${err.message}`);
  return err;
}
