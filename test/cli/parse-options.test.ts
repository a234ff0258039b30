// The one flag parser every command uses, case by case; where the two parsers it replaced
// (a hand-written one and node:util parseArgs) disagreed, the case that settles it is here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/errors.js';
import { booleanFlag, intFlag, parseFlags, requireFlags, requiredString, stringFlag, toggle, type FlagOptions } from '../../src/cli/parse-options.js';

const OPTIONS: FlagOptions = {
  'data-dir': { type: 'string' },
  'model-name': { type: 'string' },
  seed: { type: 'string' },
  quiet: { type: 'boolean' },
  'lower-case': { type: 'boolean', negatable: true },
  help: { type: 'boolean', short: 'h' },
};

/** The UsageError message parsing `argv` gives. */
function refusal(argv: string[], options: FlagOptions = OPTIONS): string {
  try {
    parseFlags(argv, options);
  } catch (e) {
    assert.ok(e instanceof UsageError, `not a UsageError: ${String(e)}`);
    return e.message;
  }
  assert.fail(`accepted ${argv.join(' ')}`);
}

test('--name value and --name=value give the same; a repeated flag keeps the last value', () => {
  const spaced = parseFlags(['--data-dir', 'd', '--model-name', 'm'], OPTIONS);
  const inline = parseFlags(['--data-dir=d', '--model-name=m'], OPTIONS);
  assert.deepEqual(spaced, inline);
  assert.deepEqual(spaced.values, { 'data-dir': 'd', 'model-name': 'm' });
  assert.equal(stringFlag(parseFlags(['--seed', '1', '--seed=2'], OPTIONS), 'seed'), '2');
  assert.equal(stringFlag(parseFlags(['--seed='], OPTIONS), 'seed'), '', 'an empty inline value is a value');
  assert.equal(stringFlag(parseFlags(['--data-dir=a=b'], OPTIONS), 'data-dir'), 'a=b', 'only the first = splits');
});

test('a missing value is named; a value may start with "-" but not with "--" nor be a flag', () => {
  assert.equal(refusal(['--data-dir']), '--data-dir needs a value');
  // The old hand-written parser took '--model-name' as the data dir here.
  assert.equal(refusal(['--data-dir', '--model-name', 'm']), '--data-dir needs a value');
  // parseArgs refused '-1' as ambiguous; a negative number is a value.
  assert.equal(stringFlag(parseFlags(['--seed', '-1'], OPTIONS), 'seed'), '-1');
  assert.equal(stringFlag(parseFlags(['--data-dir=--odd'], OPTIONS), 'data-dir'), '--odd', 'inline, anything goes');
  // '-h' after a value flag is the help flag, not the value.
  assert.deepEqual(parseFlags(['--data-dir', '-h'], OPTIONS).values, { help: true });
});

test('booleans take no value; a negatable one has --no-<name> and the last of the two wins', () => {
  assert.equal(refusal(['--quiet=1']), '--quiet does not take a value');
  assert.equal(refusal(['--no-lower-case=yes']), '--no-lower-case does not take a value');
  const flag = (argv: string[]): boolean => booleanFlag(parseFlags(argv, OPTIONS), 'lower-case', true);
  assert.equal(flag([]), true, 'the default when absent');
  assert.equal(flag(['--no-lower-case']), false);
  assert.equal(flag(['--lower-case', '--no-lower-case']), false);
  assert.equal(flag(['--no-lower-case', '--lower-case']), true);
  assert.deepEqual(parseFlags(['--lower-case', '--no-lower-case'], OPTIONS).order, ['lower-case', 'no-lower-case']);
  assert.equal(booleanFlag(parseFlags(['--quiet'], OPTIONS), 'quiet', false), true);
  // Only declared negations exist.
  assert.equal(refusal(['--no-quiet']), "unknown option '--no-quiet'");
  assert.equal(refusal(['--no-seed']), "unknown option '--no-seed'", 'a string flag has no negation');
});

test('unknown flags get a "did you mean" over the flags and their negations; stray arguments are named', () => {
  assert.equal(refusal(['--data_dir', 'd']), "unknown option '--data_dir' (did you mean --data-dir?)");
  assert.equal(refusal(['--model-nam=m']), "unknown option '--model-nam' (did you mean --model-name?)");
  assert.equal(refusal(['--no-lower-cas']), "unknown option '--no-lower-cas' (did you mean --no-lower-case?)");
  assert.equal(refusal(['--frobnicate']), "unknown option '--frobnicate'");
  assert.equal(refusal(['-x']), "unknown option '-x'");
  // Names an object has by inheritance are not flags.
  assert.equal(refusal(['--constructor']), "unknown option '--constructor'");
  assert.equal(refusal(['--toString']), "unknown option '--toString'");
  assert.equal(refusal(['data']), "unexpected argument 'data'");
  assert.equal(refusal(['--quiet', '--', 'x']), "unexpected argument '--'");
  assert.equal(refusal(['-']), "unexpected argument '-'");
  // The first problem is the one reported.
  assert.equal(refusal(['stray', '--bogus']), "unexpected argument 'stray'");
});

test('a declared help flag wins over every other problem; undeclared, --help is unknown', () => {
  for (const argv of [['--bogus', '--help'], ['-h', 'stray'], ['--data-dir', '--help'], ['--quiet=1', '-h']]) {
    assert.deepEqual(parseFlags(argv, OPTIONS).values, { help: true }, argv.join(' '));
  }
  const noHelp: FlagOptions = { quiet: { type: 'boolean' } };
  assert.equal(refusal(['--help'], noHelp), "unknown option '--help'");
  assert.equal(refusal(['-h'], noHelp), "unknown option '-h'");
});

test('integer flags: decimal (an exponent allowed), in range, otherwise refused naming flag, range and text', () => {
  const int = (text: string, range?: { min?: number; max?: number }): number | undefined => intFlag(parseFlags([`--seed=${text}`], OPTIONS), 'seed', range);
  assert.equal(int('12'), 12);
  assert.equal(int('-1'), -1);
  assert.equal(int('3e4'), 30000, 'as the hand-written parser accepted');
  assert.equal(int('+7'), 7);
  assert.equal(intFlag(parseFlags([], OPTIONS), 'seed'), undefined);
  // Number('') is 0 and Number('0x10') is 16: the hand-written parser took both.
  for (const bad of ['', ' ', '0x10', '1.5', 'ten', '1e400', '9007199254740993']) {
    assert.throws(() => int(bad), new RegExp(`^UsageError: --seed must be an integer, got '${bad}'$`), bad);
  }
  assert.throws(() => int('4', { min: 5 }), /^UsageError: --seed must be an integer >= 5, got '4'$/);
  assert.throws(() => int('9', { max: 8 }), /^UsageError: --seed must be an integer <= 8, got '9'$/);
  assert.throws(() => int('0', { min: 1, max: 8 }), /^UsageError: --seed must be an integer in \[1, 8\], got '0'$/);
  assert.equal(int('8', { min: 1, max: 8 }), 8);
});

test('required flags: a group is named together when any of it is missing; an empty value is missing', () => {
  const flags = parseFlags(['--data-dir', 'd', '--seed='], OPTIONS);
  assert.doesNotThrow(() => requireFlags(flags, ['data-dir']));
  assert.throws(() => requireFlags(flags, ['data-dir', 'model-name']), /^UsageError: --data-dir and --model-name are required$/);
  assert.throws(() => requireFlags(flags, ['seed']), /^UsageError: --seed is required$/);
  assert.throws(() => requireFlags(flags, ['quiet', 'seed', 'model-name']), /^UsageError: --quiet, --seed and --model-name are required$/);
  assert.equal(requiredString(flags, 'data-dir'), 'd');
  assert.throws(() => requiredString(flags, 'model-name'), /^UsageError: --model-name is required$/);
});

test('toggle: an on/off pair with two names (--do-lower-case / --no-lower-case), the last given wins', () => {
  const pair: FlagOptions = { 'do-lower-case': { type: 'boolean' }, 'no-lower-case': { type: 'boolean' } };
  const value = (argv: string[]): boolean => toggle(parseFlags(argv, pair), 'do-lower-case', 'no-lower-case', true);
  assert.equal(value([]), true);
  assert.equal(value(['--no-lower-case']), false);
  assert.equal(value(['--no-lower-case', '--do-lower-case']), true);
  assert.equal(value(['--do-lower-case', '--no-lower-case']), false);
});
