// The commands' flags: `--name value`, `--name=value`, booleans (`--no-name` where declared) and
// `-h`. Anything else is a UsageError naming the flag, with a "did you mean" for a misspelt one.
import { UsageError } from '../errors.js';
import { closestName } from '../util/suggest.js';

export interface FlagOption {
  type: 'string' | 'boolean';
  /** One letter, e.g. 'h' for -h. */
  short?: string;
  /** Boolean only: `--no-<name>` sets it false; of the two, the last given wins. */
  negatable?: boolean;
}

export type FlagOptions = Readonly<Record<string, FlagOption>>;

export interface ParsedFlags {
  /** The flags given: their text, true, or false for a negated boolean. */
  values: Record<string, string | boolean | undefined>;
  /** Flag names in command-line order (for on/off pairs where the last one wins, as in argparse). */
  order: string[];
}

/** "unknown option '--data_dir' (did you mean --data-dir?)" */
function unknownOptionMessage(flag: string, known: Iterable<string>): string {
  const hint = closestName(flag.replace(/^-+/, ''), known);
  return `unknown option '${flag}'${hint ? ` (did you mean --${hint}?)` : ''}`;
}

function knownNames(options: FlagOptions): string[] {
  return Object.entries(options).flatMap(([name, o]) => (o.negatable ? [name, `no-${name}`] : [name]));
}

/** The declared option `flag` ('--name', '--no-name', '-h') stands for, if any. */
function lookUp(flag: string, options: FlagOptions): { name: string; option: FlagOption; negated: boolean } | undefined {
  const declared = (name: string): FlagOption | undefined => (Object.hasOwn(options, name) ? options[name] : undefined);
  if (flag.startsWith('--')) {
    const name = flag.slice(2);
    const option = declared(name);
    if (option) return { name, option, negated: false };
    const positive = name.startsWith('no-') ? declared(name.slice(3)) : undefined;
    if (positive?.type === 'boolean' && positive.negatable) return { name: name.slice(3), option: positive, negated: true };
    return undefined;
  }
  const short = Object.entries(options).find(([, o]) => o.short !== undefined && `-${o.short}` === flag);
  return short ? { name: short[0], option: short[1], negated: false } : undefined;
}

/**
 * Parses argv strictly: unknown flags, stray arguments, a missing value and a value given to a
 * boolean are usage errors (the first one found is reported). A separate value may start with '-'
 * (`--seed -1`) but not with '--' nor be a declared flag: `--data-dir --model-name m` lacks the
 * data dir. A declared `help` flag wins over every error, so `--help` always shows the usage.
 */
export function parseFlags(argv: readonly string[], options: FlagOptions): ParsedFlags {
  const values: ParsedFlags['values'] = {};
  const order: string[] = [];
  let problem: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    const found = lookUp(flag, options);
    if (!found) {
      problem ??= /^--?[^-]/.test(flag) ? unknownOptionMessage(flag, knownNames(options)) : `unexpected argument '${arg}'`;
      continue;
    }
    const { name, option, negated } = found;
    if (option.type === 'boolean') {
      if (inline !== undefined) problem ??= `${flag} does not take a value`;
      else {
        values[name] = !negated;
        order.push(negated ? `no-${name}` : name);
      }
      continue;
    }
    const next = argv[i + 1];
    const isValue = next !== undefined && !next.startsWith('--') && !lookUp(next, options);
    const value = inline ?? (isValue ? argv[++i] : undefined);
    if (value === undefined) problem ??= `${flag} needs a value`;
    else {
      values[name] = value;
      order.push(name);
    }
  }
  if (Object.hasOwn(options, 'help') && values['help'] === true) return { values: { help: true }, order: ['help'] };
  if (problem !== undefined) throw new UsageError(problem);
  return { values, order };
}

/** "--a", "--a and --b", "--a, --b and --c" */
function flagList(names: readonly string[]): string {
  const flags = names.map((n) => `--${n}`);
  return flags.length > 1 ? `${flags.slice(0, -1).join(', ')} and ${flags.at(-1)!}` : flags.join('');
}

/** Throws "--a and --b are required" when any of `names` is missing or empty. */
export function requireFlags(flags: ParsedFlags, names: readonly string[]): void {
  if (names.some((n) => typeof flags.values[n] !== 'string' || flags.values[n] === '')) {
    throw new UsageError(`${flagList(names)} ${names.length > 1 ? 'are' : 'is'} required`);
  }
}

export interface CommandFlags {
  /** The command's name, for messages. */
  command: string;
  /** Its help text, printed for --help and after a flag error. */
  usage: string;
  /** Its flags; -h/--help is added. */
  options: FlagOptions;
  /** Flags that must be given; each list is named together when any of it is missing. */
  required?: readonly (readonly string[])[];
}

/**
 * A command's flags, or the exit code once it has answered: 0 after printing the usage for
 * -h/--help, 2 after printing the problem and the usage for bad or missing flags.
 */
export function readCommandFlags(argv: readonly string[], spec: CommandFlags): ParsedFlags | number {
  try {
    const flags = parseFlags(argv, { ...spec.options, help: { type: 'boolean', short: 'h' } });
    if (flags.values['help'] === true) {
      process.stdout.write(spec.usage);
      return 0;
    }
    for (const group of spec.required ?? []) requireFlags(flags, group);
    return flags;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`electra ${spec.command}: ${e.message}\n\n${spec.usage}`);
    return 2;
  }
}

/** The value of an on/off pair: whichever flag came last, else the default. */
export function toggle(flags: ParsedFlags, on: string, off: string, fallback: boolean): boolean {
  for (let i = flags.order.length - 1; i >= 0; i--) {
    if (flags.order[i] === on) return true;
    if (flags.order[i] === off) return false;
  }
  return fallback;
}

export function stringFlag(flags: ParsedFlags, name: string): string | undefined {
  const v = flags.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A string flag that must be there (a UsageError naming it if not). */
export function requiredString(flags: ParsedFlags, name: string): string {
  requireFlags(flags, [name]);
  return flags.values[name] as string;
}

/** A boolean flag: true or false as given (the last of --name/--no-name), else the default. */
export function booleanFlag(flags: ParsedFlags, name: string, fallback: boolean): boolean {
  const v = flags.values[name];
  return typeof v === 'boolean' ? v : fallback;
}

/**
 * An integer flag within [min, max], or undefined when absent. Written in decimal, an exponent
 * allowed ('30000', '3e4'); '1.5', '0x10' and '' are refused.
 */
export function intFlag(flags: ParsedFlags, name: string, range: { min?: number; max?: number } = {}): number | undefined {
  const raw = flags.values[name];
  if (raw === undefined) return undefined;
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = range;
  const v = typeof raw === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    const bounds = range.min !== undefined && range.max !== undefined ? ` in [${min}, ${max}]`
      : range.min !== undefined ? ` >= ${min}` : range.max !== undefined ? ` <= ${max}` : '';
    throw new UsageError(`--${name} must be an integer${bounds}, got '${String(raw)}'`);
  }
  return v;
}
