// Hparams schemas: each key declared once (type, default, one-line doc), values checked against
// the declaration before any work starts, and every error written by one formatter:
//   <source>: '<key.path>' must be <expected>, got <value>
//   <source>: unknown hparam '<key.path>' (did you mean '<key.path>'?)
// Hand-written rather than zod/valibot: small, and the messages (did-you-mean, key paths), defaults
// and docs stay ours instead of being rebuilt from a library's issue objects.
import { UsageError } from '../errors.js';
import { closestName } from './suggest.js';

/** Where a value sits: the hparams' source ('--hparams' or a file's path) and its key path. */
export class At {
  constructor(readonly source: string, readonly path: readonly string[] = []) {}

  key(name: string): At {
    return new At(this.source, [...this.path, name]);
  }

  /** The key path as written in messages: 'custom_tasks.spam.metric'. */
  get name(): string {
    return this.path.length === 0 ? 'the hparams' : quoteKey(this.path.join('.'));
  }
}

/** How messages quote a key or a choice. */
export function quoteKey(name: string): string {
  return `'${name}'`;
}

/** A value as messages show it: `"tiny" (a string)`, `a list ([1,2])`, `an object`, `null`. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list (${JSON.stringify(v).slice(0, 40)})`;
  if (typeof v === 'object') return 'an object';
  return `${JSON.stringify(v)?.slice(0, 40)} (a ${typeof v})`;
}

/** A value of the wrong type or out of range. */
export function invalidValue(at: At, expected: string, value: unknown): UsageError {
  return new UsageError(`${at.source}: ${at.name} must be ${expected}, got ${describeValue(value)}`);
}

/** A key the schema does not declare, with the closest declared one. */
export function unknownKey(at: At, key: string, known: readonly string[]): UsageError {
  const hint = closestName(key, known, 3);
  const prefix = at.path.length > 0 ? `${at.path.join('.')}.` : '';
  const tail = hint ? ` (did you mean ${quoteKey(prefix + hint)}?)` : known.length <= 12 ? ` (expected one of ${known.join(', ')})` : '';
  return new UsageError(`${at.source}: unknown hparam ${quoteKey(prefix + key)}${tail}`);
}

/** A rule between keys or about one key, as a sentence (quote keys with quoteKey). */
export function hparamsProblem(source: string, sentence: string): UsageError {
  return new UsageError(`${source}: ${sentence}`);
}

/** A value's checker: `expected` says what it accepts, for messages and docs. */
export interface Type<T> {
  readonly expected: string;
  /** The value (lists and objects copied), or a UsageError; `expected` overrides the message's own. */
  parse(value: unknown, at: At, expected?: string): T;
}

/** A type from a test on the value. */
export function check<T>(expected: string, ok: (v: unknown) => boolean): Type<T> {
  return {
    expected,
    parse(v, at, exp) {
      if (!ok(v)) throw invalidValue(at, exp ?? expected, v);
      return v as T;
    },
  };
}

interface Bounds {
  min?: number;
  max?: number;
  /** min itself is excluded: > min. */
  minOpen?: boolean;
}

function boundsText(noun: string, { min, max, minOpen }: Bounds): string {
  if (min !== undefined && max !== undefined) return `${noun} in ${minOpen ? '(' : '['}${min}, ${max}]`;
  if (min !== undefined) return `${noun} ${minOpen ? '>' : '>='} ${min}`;
  if (max !== undefined) return `${noun} <= ${max}`;
  return noun;
}

function inBounds(v: number, { min, max, minOpen }: Bounds): boolean {
  return (min === undefined || (minOpen ? v > min : v >= min)) && (max === undefined || v <= max);
}

export const bool: Type<boolean> = check('true or false', (v) => typeof v === 'boolean');

/** An integer (a safe one) within the bounds. */
export function int(bounds: Bounds = {}): Type<number> {
  return check(boundsText('an integer', bounds), (v) => Number.isSafeInteger(v) && inBounds(v as number, bounds));
}

/** A finite number within the bounds. */
export function num(bounds: Bounds = {}): Type<number> {
  return check(boundsText('a number', bounds), (v) => typeof v === 'number' && Number.isFinite(v) && inBounds(v, bounds));
}

export const str: Type<string> = check('a string', (v) => typeof v === 'string');
export const nonEmptyStr: Type<string> = check('a non-empty string', (v) => typeof v === 'string' && v !== '');

/** One of the given strings. */
export function oneOf<const V extends readonly string[]>(values: V): Type<V[number]> {
  return check(`one of ${values.map(quoteKey).join(', ')}`, (v) => typeof v === 'string' && values.includes(v));
}

/** The type or null. */
export function nullable<T>(type: Type<T>): Type<T | null> {
  // 'true or false' -> 'true, false or null'
  const expected = `${type.expected.replace(/ or (?!.* or )/, ', ')} or null`;
  return { expected, parse: (v, at, exp) => (v === null ? null : type.parse(v, at, exp ?? expected)) };
}

/** A list of strings (a copy). */
export function strings(options: { nonEmpty?: boolean } = {}): Type<string[]> {
  const expected = options.nonEmpty ? 'a non-empty list of strings' : 'a list of strings';
  const ok = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string') && (!options.nonEmpty || v.length > 0);
  return {
    expected,
    parse(v, at, exp) {
      if (!ok(v)) throw invalidValue(at, exp ?? expected, v);
      return [...v];
    },
  };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isFolderName = (v: unknown): boolean => typeof v === 'string' && /^[A-Za-z0-9._-]+$/.test(v) && v !== '.' && v !== '..';

/** A folder name under <data_dir>/models, never a path out of it. */
export const folderName: Type<string> = check("a plain folder name (letters, digits, '.', '_', '-')", isFolderName);

/** null when `v` is a plain folder name, else what was expected. */
export function plainFolderName(v: unknown): string | null {
  return isFolderName(v) ? null : folderName.expected;
}

/** The reference's TPU settings: accepted so reference hparams files load, and ignored. */
export const TPU_SETTINGS: Record<string, Field<unknown>> = {
  use_tpu: key(check('false (electra-ts runs on the CPU)', (v) => v === false), false, 'Reference TPU setting.'),
  num_tpu_cores: key(int({ min: 1 }), 1, 'Reference TPU setting.'),
  tpu_job_name: key(nullable(str), null, 'Reference TPU setting.'),
  tpu_name: key(nullable(str), null, 'Reference TPU setting.'),
  tpu_zone: key(nullable(str), null, 'Reference TPU setting.'),
  gcp_project: key(nullable(str), null, 'Reference TPU setting.'),
};

/** An object of any names to values of one type (a per-task map, say): each entry checked under its name. */
export function record<T>(value: Type<T>, expected = `an object of names to ${value.expected}`): Type<Record<string, T>> {
  return {
    expected,
    parse(v, at, exp) {
      if (!isPlainObject(v)) throw invalidValue(at, exp ?? expected, v);
      const out: Record<string, T> = {};
      for (const [name, x] of Object.entries(v)) out[name] = value.parse(x, at.key(name));
      return out;
    },
  };
}

/** A declared key: its type, the reference's default (or how the default is derived) and a one-line doc. */
export interface Field<T> {
  readonly type: Type<T>;
  readonly doc: string;
  /** Absent where the default is derived from other values (see `derived`) or the key is optional. */
  readonly default?: T;
  /** How the default is derived, e.g. '<data_dir>/vocab.txt'. */
  readonly derived?: string;
}

/** A key with its default. */
export function key<T>(type: Type<T>, dflt: NoInfer<T>, doc: string): Field<T> {
  return { type, default: dflt, doc };
}

/** A key whose default is derived from other values (`how` says how, for the docs). */
export function derivedKey<T>(type: Type<T>, how: string, doc: string): Field<T> {
  return { type, derived: how, doc };
}

/** A key with no default: absent stays absent. */
export function optionalKey<T>(type: Type<T>, doc: string): Field<T> & { readonly optional: true } {
  return { type, doc, optional: true };
}

export type Fields = Record<string, Field<any>>;

/**
 * The same keys with no defaults, for a map of overrides (per task, say) whose absent keys fall
 * back to the top level: record(new Schema(optionalFields(TRAINING_KEYS))).
 */
export function optionalFields<F extends Fields>(fields: F): { [K in keyof F]: Field<FieldType<F[K]>> & { readonly optional: true } } {
  const out: Record<string, Field<unknown>> = {};
  for (const [name, f] of Object.entries(fields)) out[name] = optionalKey(f.type, f.doc);
  return out as { [K in keyof F]: Field<FieldType<F[K]>> & { readonly optional: true } };
}

type FieldType<X> = X extends Field<infer T> ? T : never;
type OptionalKeys<F> = { [K in keyof F]: F[K] extends { optional: true } ? K : never }[keyof F];

/** The values a schema describes (optionalKey's keys optional). */
export type SchemaValues<F extends Fields> = { -readonly [K in Exclude<keyof F, OptionalKeys<F>>]: FieldType<F[K]> }
  & { -readonly [K in OptionalKeys<F>]?: FieldType<F[K]> };

export interface SchemaOptions {
  /** Reference keys accepted so reference files load, checked, reported as ignored, and dropped. */
  ignored?: Record<string, Field<unknown>>;
  /** Reference keys refused here, with why ("the model name comes from --model-name"). */
  refused?: Record<string, string>;
  /** Older names: { skip_first_line: { to: 'header', type: bool } }; giving both is an error. */
  aliases?: Record<string, { to: string; type: Type<unknown> }>;
  /** What the object is, for messages ('an object'). */
  expected?: string;
}

/** The given keys, checked, and the ignored keys that were given. */
export interface GivenValues<F extends Fields> {
  values: Partial<SchemaValues<F>>;
  ignored: string[];
}

/** An object with declared keys; as a Type it gives the defaults overlaid with the given values. */
export class Schema<F extends Fields> implements Type<SchemaValues<F>> {
  readonly expected: string;

  constructor(readonly fields: F, readonly options: SchemaOptions = {}) {
    this.expected = options.expected ?? 'an object';
  }

  /** The declared keys (not the ignored or refused ones). */
  get keys(): (keyof F & string)[] {
    return Object.keys(this.fields);
  }

  /** A fresh copy of the declared defaults (derived and optional keys left out). */
  defaults(): Partial<SchemaValues<F>> {
    const out: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(this.fields)) if ('default' in field) out[name] = structuredClone(field.default);
    return out as Partial<SchemaValues<F>>;
  }

  /** Checks the given keys only; refused, unknown and misspelt keys are errors. */
  parseGiven(v: unknown, at: At, exp?: string): GivenValues<F> {
    if (!isPlainObject(v)) throw invalidValue(at, exp ?? this.expected, v);
    const { ignored = {}, refused = {}, aliases = {} } = this.options;
    const values: Record<string, unknown> = {};
    const ignoredGiven: string[] = [];
    for (const [name, x] of Object.entries(v)) {
      const field = Object.hasOwn(this.fields, name) ? this.fields[name] : undefined;
      if (field) {
        values[name] = field.type.parse(x, at.key(name));
      } else if (Object.hasOwn(ignored, name)) {
        ignored[name]!.type.parse(x, at.key(name));
        ignoredGiven.push(name);
      } else if (Object.hasOwn(refused, name)) {
        throw hparamsProblem(at.source, `${at.key(name).name} cannot be set here: ${refused[name]}`);
      } else if (Object.hasOwn(aliases, name)) {
        const { to, type } = aliases[name]!;
        if (Object.hasOwn(v, to)) throw hparamsProblem(at.source, `give ${at.key(to).name} or its older name ${at.key(name).name}, not both`);
        values[to] = type.parse(x, at.key(name));
      } else {
        throw unknownKey(at, name, [...this.keys, ...Object.keys(ignored)]);
      }
    }
    return { values: values as Partial<SchemaValues<F>>, ignored: ignoredGiven };
  }

  parse(v: unknown, at: At, exp?: string): SchemaValues<F> {
    return { ...this.defaults(), ...this.parseGiven(v, at, exp).values } as SchemaValues<F>;
  }
}

/** The default as the docs show it: JSON, or how it is derived. */
export function defaultText(field: Field<unknown>): string {
  if (field.derived !== undefined) return `\`${field.derived}\``;
  if (!('default' in field)) return '(none)';
  return `\`${JSON.stringify(field.default)}\``;
}

/** A markdown table of a schema's keys: key, accepted values, default, doc. */
export function schemaMarkdown(schema: { readonly fields: Fields }, prefix = ''): string {
  const cell = (s: string): string => s.replace(/[|<]/g, '\\$&');
  const rows = Object.entries(schema.fields).map(([name, f]) => `| \`${prefix}${name}\` | ${cell(f.type.expected)} | ${defaultText(f)} | ${cell(f.doc)} |`);
  return ['| key | accepts | default | what it does |', '|---|---|---|---|', ...rows].join('\n') + '\n';
}
