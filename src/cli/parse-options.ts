// Small helpers over node:util parseArgs for the commands' flags.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closestName } from '../util/suggest.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface ParsedFlags {
  values: Record<string, string | boolean | undefined>;
  /** Flag names in command-line order (for on/off pairs where the last one wins, as in argparse). */
  order: string[];
}

/** "unknown option '--data_dir' (did you mean --data-dir?)" */
export function unknownOptionMessage(arg: string, known: Iterable<string>): string {
  const name = arg.replace(/^-+/, '').replace(/=.*$/, '');
  const hint = closestName(name, known);
  return `unknown option '${arg.replace(/=.*$/, '')}'${hint ? ` (did you mean --${hint}?)` : ''}`;
}

/** Parses argv strictly (unknown flags and stray arguments are usage errors; a misspelt flag gets a hint). */
export function parseFlags(argv: string[], options: Options): ParsedFlags {
  try {
    const { values, tokens } = parseArgs({ args: argv, options, strict: true, allowPositionals: false, tokens: true });
    const order = (tokens ?? []).flatMap((t) => (t.kind === 'option' ? [t.name] : []));
    return { values: values as ParsedFlags['values'], order };
  } catch (e) {
    throw new UsageError(flagErrorMessage(e as Error, options));
  }
}

/** parseArgs' error, with a "did you mean" for an unknown option. */
export function flagErrorMessage(err: Error & { code?: string }, options: Options): string {
  const unknown = /^Unknown option '([^']+)'/.exec(err.message);
  return err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown ? unknownOptionMessage(unknown[1]!, Object.keys(options)) : err.message;
}

/** The value of an on/off pair: whichever flag came last, else the default. */
export function toggle(flags: ParsedFlags, on: string, off: string, fallback: boolean): boolean {
  for (let i = flags.order.length - 1; i >= 0; i--) {
    if (flags.order[i] === on) return true;
    if (flags.order[i] === off) return false;
  }
  return fallback;
}

/** An integer flag value, or undefined when absent. */
export function intFlag(flags: ParsedFlags, name: string): number | undefined {
  const v = flags.values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^-?\d+$/.test(v.trim())) throw new UsageError(`--${name} expects an integer, got '${String(v)}'`);
  return Number(v.trim());
}

export function stringFlag(flags: ParsedFlags, name: string): string | undefined {
  const v = flags.values[name];
  return typeof v === 'string' ? v : undefined;
}
