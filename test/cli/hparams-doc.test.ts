// docs/hparams.md lists every hparams key with its default, as the schemas declare them; and the
// schemas' defaults are the ones the resolvers apply.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { hparamsReference } from '../../src/cli/hparams-doc.js';
import { MODEL_OVERRIDES_SCHEMA, PRETRAINING_SCHEMA, resolvePretrainingHparams } from '../../src/pretrain/hparams.js';
import { FINETUNING_SCHEMA, TASK_SPEC_SCHEMAS, resolveHparams } from '../../src/finetune/hparams.js';

test('docs/hparams.md is current (regenerate: npx tsc -p . && node scripts/hparams-doc.mjs)', () => {
  const doc = readFileSync('docs/hparams.md', 'utf8');
  assert.equal(doc, hparamsReference());
  const row = (name: string, dflt: unknown): RegExp =>
    new RegExp(`^\\| \`${name.replace(/\./g, '\\.')}\` \\|.*\\| \`${JSON.stringify(dflt).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\` \\|`, 'm');
  for (const schema of [PRETRAINING_SCHEMA, FINETUNING_SCHEMA, ...Object.values(TASK_SPEC_SCHEMAS)]) {
    for (const [name, field] of Object.entries(schema.fields)) {
      if ('default' in field) assert.match(doc, row(name, field.default), name);
      else assert.ok(doc.includes(`| \`${name}\` |`), name);
    }
  }
  for (const name of MODEL_OVERRIDES_SCHEMA.keys) assert.ok(doc.includes(`| \`model_hparam_overrides.${name}\` |`), name);
  assert.match(readFileSync('README.md', 'utf8'), /\(docs\/hparams\.md\)/, 'the README links the reference');
});

test('the schemas\' defaults are the resolved defaults (where no task or size rule applies)', () => {
  // base: small forces embedding_size 128; everything else resolves to the declared default.
  const pre = resolvePretrainingHparams({ model_size: 'base' }, '/d', 'm').hparams as unknown as Record<string, unknown>;
  for (const [name, value] of Object.entries(PRETRAINING_SCHEMA.defaults())) {
    if (name !== 'model_size') assert.deepEqual(pre[name], value, name);
  }
  assert.equal(pre.max_predictions_per_seq, 19);
  // mnli: no per-task defaults (chunk, the default task, sets max_seq_length 256).
  const fine = resolveHparams({ model_size: 'base', task_names: ['mnli'] }).hparams as unknown as Record<string, unknown>;
  for (const [name, value] of Object.entries(FINETUNING_SCHEMA.defaults())) {
    if (name !== 'model_size' && name !== 'task_names') assert.deepEqual(fine[name], value, name);
  }
});
