// docs/hparams.md, written from the hparams schemas (scripts/hparams-doc.mjs writes it, a test
// checks it is current), so the reference of keys and defaults cannot drift from the code.
import { schemaMarkdown } from '../util/schema.js';
import { MODEL_OVERRIDES_SCHEMA, PRETRAINING_SCHEMA } from '../pretrain/hparams.js';
import { FINETUNING_SCHEMA, TASK_SPEC_SCHEMAS } from '../finetune/hparams.js';

function ignoredLine(schema: { options: { ignored?: Record<string, unknown>; refused?: Record<string, string> } }): string {
  const ignored = Object.keys(schema.options.ignored ?? {}).map((k) => `\`${k}\``).join(', ');
  const refused = Object.entries(schema.options.refused ?? {}).map(([k, why]) => `\`${k}\` (${why})`).join('; ');
  return `Accepted and ignored (reference settings with no effect here): ${ignored}.${refused ? ` Refused: ${refused}.` : ''}\n`;
}

/** The text of docs/hparams.md. */
export function hparamsReference(): string {
  const parts = [
    '# Hyperparameters',
    '',
    'Every key `--hparams` takes, with what it accepts and its default: the reference\'s names and defaults',
    '(`configure_pretraining.py`, `configure_finetuning.py`); keys marked electra-ts are this package\'s own.',
    'Generated from the schemas in `src/pretrain/hparams.ts` and `src/finetune/hparams.ts` by',
    '`node scripts/hparams-doc.mjs` (after `npx tsc -p .`); a test checks that it is current.',
    '',
    '## electra pretrain',
    '',
    'Defaults given as a formula or path are derived when the key is not given; `debug` and `model_size`',
    'change some defaults as in the reference (debug: batch 8, 20 steps; small: `embedding_size` 128).',
    '',
    schemaMarkdown(PRETRAINING_SCHEMA),
    ignoredLine(PRETRAINING_SCHEMA),
    '### model_hparam_overrides',
    '',
    'BertConfig fields; those not given come from `model_size`.',
    '',
    schemaMarkdown(MODEL_OVERRIDES_SCHEMA, 'model_hparam_overrides.'),
    '## electra finetune',
    '',
    'For a single task the reference\'s per-task defaults apply unless given (rte, sts: 10 epochs; squad-style',
    'QA: 2 epochs, `max_seq_length` 512; chunk: `max_seq_length` 256), and `model_size` large sets',
    '`learning_rate` 5e-5 and `layerwise_lr_decay` 0.9.',
    '',
    schemaMarkdown(FINETUNING_SCHEMA),
    ignoredLine(FINETUNING_SCHEMA),
  ];
  for (const [type, schema] of Object.entries(TASK_SPEC_SCHEMAS)) {
    parts.push(`### ${type} task specs`, '', `The fields of \`${type}\` and of a \`custom_tasks\` entry with \`"type": "${type}"\`.`, '', schemaMarkdown(schema));
  }
  return parts.join('\n');
}
