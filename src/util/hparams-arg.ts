// `--hparams` as the reference takes it: JSON text, or the path of a JSON file.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { parseJsonText } from './json.js';
import { describeValue } from './schema.js';
import { decodeUtf8Strict, InvalidUtf8Error } from './text.js';

export interface HparamsArgument {
  values: Record<string, unknown>;
  /** Where they came from, for error messages: '--hparams' or the file's path. */
  source: string;
}

/**
 * Reads `--hparams`: text that starts like JSON ({, [, ") is JSON; anything else is a file path
 * (the reference reads values ending in .json as files). Errors name the file and the line and
 * column of a syntax error; the value must be a JSON object.
 */
export function readHparamsArgument(arg: string): HparamsArgument {
  const trimmed = arg.trim();
  let source: string;
  let text: string;
  if (/^[{["]/.test(trimmed)) {
    source = '--hparams';
    text = trimmed;
  } else {
    source = trimmed;
    if (!existsSync(trimmed)) {
      throw new UsageError(trimmed.endsWith('.json')
        ? `--hparams: file not found: ${trimmed}`
        : `--hparams: '${trimmed}' is neither a JSON object nor an existing file`);
    }
    if (statSync(trimmed).isDirectory()) throw new UsageError(`--hparams: ${trimmed} is a directory, expected a JSON file`);
    try {
      text = decodeUtf8Strict(readFileSync(trimmed), trimmed);
    } catch (err) {
      if (err instanceof InvalidUtf8Error) throw new UsageError(err.message);
      throw err;
    }
  }
  const value = parseJsonText(text, source, (m) => new UsageError(m));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(`${source}: expected a JSON object of hparams, got ${describeValue(value)}`);
  }
  return { values: value as Record<string, unknown>, source };
}
