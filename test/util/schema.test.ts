// The hparams schema: each type's checks and the one formatter's messages, exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../src/errors.js';
import {
  At, bool, derivedKey, int, key, nonEmptyStr, nullable, num, oneOf, optionalFields, optionalKey, record, Schema, str, strings, schemaMarkdown,
} from '../../src/util/schema.js';

const at = new At('hp.json');
function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof UsageError, String(e));
    return e.message;
  }
  assert.fail('no error');
}

test('scalar types accept what they say and name key, expected and value otherwise', () => {
  assert.equal(int({ min: 1 }).parse(3, at.key('n')), 3);
  assert.equal(message(() => int({ min: 1 }).parse(0, at.key('n'))), "hp.json: 'n' must be an integer >= 1, got 0 (a number)");
  assert.equal(message(() => int({ min: 8, max: 512 }).parse(2.5, at.key('n'))), "hp.json: 'n' must be an integer in [8, 512], got 2.5 (a number)");
  assert.equal(message(() => int().parse(2 ** 60, at.key('n'))), `hp.json: 'n' must be an integer, got ${2 ** 60} (a number)`);
  assert.equal(message(() => num({ min: 0, max: 1, minOpen: true }).parse(0, at.key('p'))), "hp.json: 'p' must be a number in (0, 1], got 0 (a number)");
  assert.equal(num({ min: 0, max: 1, minOpen: true }).parse(1, at.key('p')), 1);
  assert.equal(message(() => num().parse(null, at.key('x'))), "hp.json: 'x' must be a number, got null");
  assert.equal(message(() => bool.parse('yes', at.key('b'))), `hp.json: 'b' must be true or false, got "yes" (a string)`);
  assert.equal(message(() => nonEmptyStr.parse('', at.key('s'))), `hp.json: 's' must be a non-empty string, got "" (a string)`);
  assert.equal(str.parse('', at.key('s')), '');
  assert.equal(message(() => oneOf(['a', 'b']).parse('c', at.key('o'))), `hp.json: 'o' must be one of 'a', 'b', got "c" (a string)`);
  assert.equal(message(() => nullable(bool).parse(1, at.key('b'))), "hp.json: 'b' must be true, false or null, got 1 (a number)");
  assert.equal(message(() => nullable(oneOf(['a', 'b'])).parse([], at.key('o'))), "hp.json: 'o' must be one of 'a', 'b' or null, got a list ([])");
  assert.equal(nullable(int()).parse(null, at.key('n')), null);
  assert.equal(message(() => strings({ nonEmpty: true }).parse([], at.key('l'))), "hp.json: 'l' must be a non-empty list of strings, got a list ([])");
  const list = ['x'];
  assert.notEqual(strings().parse(list, at.key('l')), list, 'lists are copied');
});

test('schemas: defaults, nested key paths, did-you-mean, ignored, refused and older names', () => {
  const inner = new Schema({ size: key(int({ min: 1 }), 4, 'Size.'), label: optionalKey(str, 'Label.') }, { aliases: { old_size: { to: 'size', type: int({ min: 1 }) } } });
  const schema = new Schema({
    rate: key(num({ min: 0 }), 0.5, 'Rate.'),
    path: derivedKey(str, '<dir>/x', 'Path.'),
    inner: key(inner, { size: 4 }, 'Inner.'),
    per_task: key(record(inner, 'an object of task settings'), {}, 'Per task.'),
  }, { ignored: { use_tpu: key(bool, false, 'Ignored.') }, refused: { data_dir: 'it comes from --data-dir' } });

  assert.deepEqual(schema.defaults(), { rate: 0.5, inner: { size: 4 }, per_task: {} });
  assert.notEqual(schema.defaults().inner, schema.defaults().inner, 'defaults are fresh copies');
  const given = schema.parseGiven({ rate: 1, use_tpu: true, per_task: { a: { old_size: 2 } } }, at);
  assert.deepEqual(given, { values: { rate: 1, per_task: { a: { size: 2 } } }, ignored: ['use_tpu'] });
  assert.equal(message(() => schema.parseGiven({ rat: 1 }, at)), "hp.json: unknown hparam 'rat' (did you mean 'rate'?)");
  assert.equal(message(() => schema.parseGiven({ inner: { sise: 1 } }, at)), "hp.json: unknown hparam 'inner.sise' (did you mean 'inner.size'?)");
  assert.equal(message(() => schema.parseGiven({ inner: { zzzzzz: 1 } }, at)), "hp.json: unknown hparam 'inner.zzzzzz' (expected one of size, label)");
  assert.equal(message(() => schema.parseGiven({ per_task: { a: { size: 0 } } }, at)), "hp.json: 'per_task.a.size' must be an integer >= 1, got 0 (a number)");
  assert.equal(message(() => schema.parseGiven({ per_task: [] }, at)), "hp.json: 'per_task' must be an object of task settings, got a list ([])");
  assert.equal(message(() => schema.parseGiven({ inner: { size: 2, old_size: 3 } }, at)), "hp.json: give 'inner.size' or its older name 'inner.old_size', not both");
  assert.equal(message(() => schema.parseGiven({ data_dir: 'd' }, at)), "hp.json: 'data_dir' cannot be set here: it comes from --data-dir");
  assert.equal(message(() => schema.parseGiven(7, at)), 'hp.json: the hparams must be an object, got 7 (a number)');
  assert.match(schemaMarkdown(schema), /\| `path` \| a string \| `<dir>\/x` \| Path\. \|/);
});

test('a per-task map of optional overrides reuses the top-level declarations', () => {
  const training = { learning_rate: key(num({ min: 0, minOpen: true }), 1e-4, 'Rate.'), epochs: key(num({ min: 0, minOpen: true }), 3, 'Epochs.') };
  const schema = new Schema({ ...training, task_settings: key(record(new Schema(optionalFields(training)), 'an object of task names to settings'), {}, 'Per task.') });
  assert.deepEqual(schema.parse({ task_settings: { rte: { epochs: 10 } } }, at), { learning_rate: 1e-4, epochs: 3, task_settings: { rte: { epochs: 10 } } });
  assert.equal(message(() => schema.parse({ task_settings: { rte: { learning_rat: 1 } } }, at)),
    "hp.json: unknown hparam 'task_settings.rte.learning_rat' (did you mean 'task_settings.rte.learning_rate'?)");
  assert.equal(message(() => schema.parse({ task_settings: { rte: { epochs: 0 } } }, at)), "hp.json: 'task_settings.rte.epochs' must be a number > 0, got 0 (a number)");
});
