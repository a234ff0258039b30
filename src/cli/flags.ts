// Minimal `--name value` / `--flag` / `--no-flag` parsing for the CLI commands, with clear errors.
import { UsageError } from '../io/errors.js';
import { unknownOptionMessage } from './parse-options.js';

export interface FlagSpec {
  /** Flags that take a value. */
  values?: readonly string[];
  /** Boolean flags; `--no-<name>` sets them false. */
  booleans?: readonly string[];
}

export interface ParsedFlags {
  values: Map<string, string>;
  booleans: Map<string, boolean>;
}

export function parseFlags(command: string, argv: readonly string[], spec: FlagSpec): ParsedFlags {
  const valueNames = new Set(spec.values ?? []);
  const booleanNames = new Set(spec.booleans ?? []);
  const values = new Map<string, string>();
  const booleans = new Map<string, boolean>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new UsageError(`${command}: unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (valueNames.has(name)) {
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`${command}: --${name} needs a value`);
      values.set(name, value);
    } else if (booleanNames.has(name) && eq < 0) booleans.set(name, true);
    else if (name.startsWith('no-') && booleanNames.has(name.slice(3)) && eq < 0) booleans.set(name.slice(3), false);
    else {
      const known = [...valueNames, ...booleanNames, ...[...booleanNames].map((b) => `no-${b}`)];
      throw new UsageError(`${command}: ${unknownOptionMessage(arg, known)}`);
    }
  }
  return { values, booleans };
}

/** A required string flag. */
export function requireValue(command: string, flags: ParsedFlags, name: string): string {
  const v = flags.values.get(name);
  if (v === undefined) throw new UsageError(`${command}: --${name} is required`);
  return v;
}

/** An integer flag within [min, max]. */
export function intValue(command: string, flags: ParsedFlags, name: string, fallback: number | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = flags.values.get(name);
  if (raw === undefined) {
    if (fallback === undefined) throw new UsageError(`${command}: --${name} is required`);
    return fallback;
  }
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) throw new UsageError(`${command}: --${name} must be an integer in [${min}, ${max}], got '${raw}'`);
  return v;
}
