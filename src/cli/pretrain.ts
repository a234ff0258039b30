// `electra pretrain --data-dir D --model-name M [--hparams JSON|FILE]`: run_pretraining.py.
import { exitStatusFor } from './exit-status.js';
import { parsePretrainingHparams } from '../pretrain/hparams.js';
import { runPretraining } from '../pretrain/run.js';
import type { Command } from './commands.js';
import { booleanFlag, readCommandFlags, requiredString, stringFlag } from './parse-options.js';
import { interruptOnSigint } from './interrupt.js';

const HELP = `Usage: electra pretrain --data-dir DIR --model-name NAME [--hparams JSON|FILE] [--quiet]

Pre-trains ELECTRA (generator + discriminator) as google-research/electra's run_pretraining.py.
Re-running the same command resumes from the newest complete checkpoint.

Data dir layout (as the reference):
  DIR/vocab.txt                 WordPiece vocabulary (vocab_size must match it)
  DIR/pretrain_tfrecords/       the pre-training data, built by
                                  electra build-pretraining-dataset --corpus-dir CORPUS \\
                                    --vocab-file DIR/vocab.txt --output-dir DIR/pretrain_tfrecords
  DIR/models/NAME/              written here:
    checkpoint-<step>/          discriminator/ (HF ElectraForPreTraining), generator/ (HF
                                ElectraForMaskedLM), optimizer.safetensors, training_state.json
    metrics.jsonl               one JSON line per logged step (every iterations_per_loop steps)
    hparams.json                the resolved hparams of the last run
    results/unsup_results.txt   eval metrics (do_eval), and unsup_results.json

--hparams takes a JSON object or the path of a JSON file, with the reference's keys, e.g.
  '{"model_size": "small", "num_train_steps": 10000, "learning_rate": 5e-4}'
  '{"debug": true}'                      tiny model, 20 steps of batch 8
  '{"do_train": false, "do_eval": true}' evaluate the newest checkpoint
electra-ts keys: seed (default 0), init_checkpoint (start from HF folders, e.g. Google's
checkpoints converted with \`electra convert\` into X/discriminator and X/generator: "X").

Options:
  --data-dir DIR     the data dir (required)
  --model-name NAME  the model's folder under DIR/models (required)
  --hparams JSON     hyperparameters (JSON text or file)
  --quiet            no progress bar or progress lines
`;

async function run(argv: string[]): Promise<number> {
  const flags = readCommandFlags(argv, {
    command: 'pretrain', usage: HELP, required: [['data-dir', 'model-name']],
    options: { 'data-dir': { type: 'string' }, 'model-name': { type: 'string' }, hparams: { type: 'string' }, quiet: { type: 'boolean' } },
  });
  if (typeof flags === 'number') return flags;
  const dataDir = requiredString(flags, 'data-dir');
  const modelName = requiredString(flags, 'model-name');
  const quiet = booleanFlag(flags, 'quiet', false);
  const interrupt = interruptOnSigint('pretrain');
  try {
    const { hparams, ignored } = parsePretrainingHparams(stringFlag(flags, 'hparams'), dataDir, modelName);
    if (ignored.length > 0) process.stderr.write(`electra pretrain: ignoring TPU settings ${ignored.join(', ')}\n`);
    const crashAt = process.env['ELECTRA_TEST_KILL_IN_CHECKPOINT'];
    const result = await runPretraining(hparams, {
      progress: !quiet,
      log: (line) => process.stdout.write(line + '\n'),
      signal: interrupt.signal,
      ...(crashAt ? { killInCheckpointAtStep: Number(crashAt) } : {}),
    });
    return result.interrupted ? 130 : 0;
  } catch (e) {
    const message = (e as Error).message;
    process.stderr.write(`electra pretrain: ${message}\n`);
    return exitStatusFor(e);
  } finally {
    interrupt.dispose();
  }
}

export const pretrainCommand: Command = {
  name: 'pretrain',
  summary: 'Pre-train ELECTRA (resumes from the newest checkpoint)',
  run,
};
