// `electra build-openwebtext-pretraining-dataset`: <data-dir>/openwebtext/*.xz -> <data-dir>/pretrain_tfrecords
// (see src/data/openwebtext.ts).
import { BuildInterruptedError, BUILD_DEFAULTS, MAX_SEQ_LENGTH, MIN_SEQ_LENGTH } from '../data/build.js';
import { buildOpenWebTextDataset } from '../data/openwebtext.js';
import { UsageError } from '../errors.js';
import { Progress } from '../util/progress.js';
import type { Command } from './commands.js';
import { intFlag, readCommandFlags, requiredString, stringFlag, toggle } from './parse-options.js';
import { exitStatusFor } from './exit-status.js';

const HELP = `Usage: electra build-openwebtext-pretraining-dataset --data-dir DIR [options]

Builds pre-training examples from the OpenWebText corpus as google-research/electra's
build_openwebtext_pretraining_dataset.py does: reads the archives DIR/openwebtext/urlsf_subset*.xz
(tar files of .txt documents, xz-compressed) as they are, without extracting them, and
DIR/vocab.txt; writes DIR/pretrain_tfrecords (manifest.json and shards, or with --output-format
tfrecord the reference's pretrain_data.tfrecord-I-of-N files). Each document is one .txt member;
job j takes every N-th archive and shuffles its archives and their members, as the reference.

Options:
  --data-dir DIR              holds openwebtext/ and vocab.txt (required)
  --max-seq-length N          tokens per example, ${MIN_SEQ_LENGTH}..${MAX_SEQ_LENGTH} (default ${BUILD_DEFAULTS.maxSeqLength})
  --num-processes N           jobs, each with its own archives, random stream and output files (default 1)
  --num-out-files N           output files in all (default: one per 32 MiB of archives, at most 1000)
  --output-format F           shards (default) or tfrecord (the reference's files)
  --seed N                    random seed (the reference is unseeded) (default ${BUILD_DEFAULTS.seed})
  --do-lower-case / --no-lower-case        (default: lower-case)
  --do-strip-accents / --no-strip-accents  (default: strip; only applies when lower-casing)
  --quiet                     no progress bar
`;

async function run(argv: string[]): Promise<number> {
  const flags = readCommandFlags(argv, {
    command: 'build-openwebtext-pretraining-dataset', usage: HELP, required: [['data-dir']],
    options: {
      'data-dir': { type: 'string' }, 'max-seq-length': { type: 'string' }, 'num-processes': { type: 'string' },
      'num-out-files': { type: 'string' }, 'output-format': { type: 'string' }, seed: { type: 'string' },
      'do-lower-case': { type: 'boolean' }, 'no-lower-case': { type: 'boolean' },
      'do-strip-accents': { type: 'boolean' }, 'no-strip-accents': { type: 'boolean' }, quiet: { type: 'boolean' },
    },
  });
  if (typeof flags === 'number') return flags;
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  let bar: Progress | null = null;
  try {
    const format = stringFlag(flags, 'output-format');
    if (format !== undefined && format !== 'shards' && format !== 'tfrecord') throw new UsageError(`--output-format must be shards or tfrecord, got '${format}'`);
    const quiet = flags.values.quiet === true;
    const result = await buildOpenWebTextDataset({
      dataDir: requiredString(flags, 'data-dir'),
      maxSeqLength: intFlag(flags, 'max-seq-length'),
      numProcesses: intFlag(flags, 'num-processes'),
      numOutFiles: intFlag(flags, 'num-out-files'),
      seed: intFlag(flags, 'seed'),
      lowerCase: toggle(flags, 'do-lower-case', 'no-lower-case', BUILD_DEFAULTS.lowerCase),
      stripAccents: toggle(flags, 'do-strip-accents', 'no-strip-accents', BUILD_DEFAULTS.stripAccents),
      ...(format ? { outputFormat: format } : {}),
    }, {
      signal: controller.signal,
      onProgress: (p) => {
        if (quiet) return;
        bar ??= new Progress({ total: p.totalBytes, label: 'building examples', unit: 'bytes' });
        bar.update(p.bytesRead);
      },
    });
    const m = result.manifest;
    (bar as Progress | null)?.finish(`${m.counts.examples.toLocaleString('en-US')} examples`);
    process.stdout.write(`wrote ${m.counts.examples} examples (max_seq_length ${m.maxSeqLength}) in ${m.shards.length} ${m.outputFormat === 'tfrecord' ? 'TFRecord files' : 'shards'} ` +
      `to ${result.outputDir} from ${m.corpus.files} archives (${m.counts.files} documents, ${(m.counts.bytes / 1e6).toFixed(1)} MB of text) in ${result.seconds.toFixed(1)} s\n`);
    return 0;
  } catch (e) {
    if (bar && process.stderr.isTTY) process.stderr.write('\n');
    if (e instanceof BuildInterruptedError) {
      process.stderr.write('\nelectra build-openwebtext-pretraining-dataset: interrupted; nothing was kept, rerun the command\n');
      return 130;
    }
    process.stderr.write(`electra build-openwebtext-pretraining-dataset: ${(e as Error).message}\n`);
    return exitStatusFor(e);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

export const buildOpenWebTextCommand: Command = {
  name: 'build-openwebtext-pretraining-dataset',
  summary: 'Build pre-training examples from the OpenWebText xz archives',
  run,
};
