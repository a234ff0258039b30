// `electra finetune`: the reference's run_finetuning.py command line.
import type { Command } from './commands.js';
import { readCommandFlags, requiredString, stringFlag } from './parse-options.js';
import { UsageError } from '../errors.js';
import { plainFolderName, resolveHparams } from '../finetune/hparams.js';
import { readHparamsArgument } from '../util/hparams-arg.js';
import { runFinetuningAsync } from '../finetune/runner.js';
import { interruptOnSigint } from './interrupt.js';
import { checkOutputFolder } from '../io/files.js';
import { join } from 'node:path';

const usage = `Usage: electra finetune --data-dir DIR --model-name NAME [--hparams JSON|FILE.json]

Fine-tunes a pre-trained ELECTRA model on the tasks in hparams' task_names (default chunk),
as google-research/electra's run_finetuning.py does, on this machine's CPU.

  --data-dir DIR     holds finetuning_data/<task>/ and models/<model-name>/
  --model-name NAME  the pre-trained model: DIR/models/NAME (an HF folder, its discriminator/,
                     or its newest checkpoint-<step>/discriminator/), unless hparams give
                     "init_checkpoint" or "random_init": true
  --hparams JSON     hyperparameters with the reference's names, as JSON or a .json file, e.g.
                     '{"task_names": ["rte"], "model_size": "small", "num_trials": 3}'

Results: DIR/models/NAME/results/<tasks>_results.txt (and .json with the median over trials);
models: DIR/models/NAME/finetuning_models/<tasks>_model_<trial> (HF folders);
QA predictions: DIR/models/NAME/results/<tasks>_qa/.

With "save_checkpoints_steps": N, training saves a checkpoint every N updates into the trial's
model folder (and on Ctrl-C). Re-running the same command resumes from it and skips the trials
already done (recorded in finetuning_models/<tasks>_progress.json); delete that file and the
model folders to start over.
`;

export const finetuneCommand: Command = {
  name: 'finetune',
  summary: 'Fine-tune a pre-trained model on GLUE, SQuAD, MRQA, chunking or your own tasks',
  async run(argv) {
    const flags = readCommandFlags(argv, {
      command: 'finetune', usage, required: [['data-dir', 'model-name']],
      options: { 'data-dir': { type: 'string' }, 'model-name': { type: 'string' }, hparams: { type: 'string' } },
    });
    if (typeof flags === 'number') return flags;
    const dataDir = requiredString(flags, 'data-dir');
    const modelName = requiredString(flags, 'model-name');
    const interrupt = interruptOnSigint('finetune');
    try {
      const nameProblem = plainFolderName(modelName);
      if (nameProblem) throw new UsageError(`--model-name must be ${nameProblem}, got '${modelName}'`);
      const arg = stringFlag(flags, 'hparams');
      const { values: given, source: where } = arg === undefined ? { values: {}, source: '--hparams' } : readHparamsArgument(arg);
      for (const key of ['data_dir', 'model_name']) {
        if (key in given) throw new UsageError(`${where}: '${key}' comes from --${key.replace('_', '-')}, not the hparams`);
      }
      const { hparams, ignored } = resolveHparams({ ...given, data_dir: dataDir, model_name: modelName }, where);
      checkOutputFolder(join(dataDir, 'models', modelName), 'the model folder');
      if (ignored.length > 0) process.stderr.write(`ignoring reference-only hparams: ${ignored.join(', ')}\n`);
      const kill = /^(\d+):(\d+)$/.exec(process.env['ELECTRA_TEST_KILL_IN_CHECKPOINT'] ?? '');
      const result = await runFinetuningAsync({
        hparams, signal: interrupt.signal, ...(kill ? { killInCheckpoint: { trial: Number(kill[1]), step: Number(kill[2]) } } : {}),
      });
      if (result.interrupted) return 130;
      // The per-trial results are in the log (stderr); stdout gets where they were written.
      if (result.trials.length > 0) process.stdout.write(`${result.paths.resultsTxt}\n${result.paths.resultsJson}\n`);
      return 0;
    } finally {
      interrupt.dispose();
    }
  },
};
