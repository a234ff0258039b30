// `electra build-pretraining-dataset`: raw text directory -> shards + manifest.json (see src/data/build.ts).
import { BuildInterruptedError, buildPretrainingDataset, BUILD_DEFAULTS, MAX_SEQ_LENGTH, MIN_BYTES_PER_WORKER, MIN_SEQ_LENGTH } from '../data/build.js';
import { Progress } from '../util/progress.js';
import type { Command } from './commands.js';
import { intFlag, readCommandFlags, requiredString, toggle } from './parse-options.js';
import { exitStatusFor } from './exit-status.js';
import { checkOutputFolder } from '../io/files.js';
import { UsageError } from '../errors.js';

const HELP = `Usage: electra build-pretraining-dataset --corpus-dir DIR --vocab-file FILE --output-dir DIR [options]

Turns a directory of text files (one sentence or paragraph a line, blank lines between documents)
into fixed-length ELECTRA pre-training examples, as google-research/electra's
build_pretraining_dataset.py does. Writes DIR/manifest.json and DIR/shard-XXXXX-of-NNNNN.bin, or with
--output-format tfrecord the reference's DIR/pretrain_data.tfrecord-I-of-N files (same examples).
A rerun with the same settings finishes an interrupted build; a finished one is left as is.

Options:
  --corpus-dir DIR            text files to read (required)
  --vocab-file FILE           WordPiece vocab.txt (required)
  --output-dir DIR            where the shards and manifest go (required)
  --max-seq-length N          tokens per example, ${MIN_SEQ_LENGTH}..${MAX_SEQ_LENGTH} (default ${BUILD_DEFAULTS.maxSeqLength})
  --num-processes N           jobs, each with its own files, random stream and shards, as the
                              reference's processes; up to N threads share their tokenizing, one per
                              ${MIN_BYTES_PER_WORKER >> 20} MiB of corpus beyond the first (default ${BUILD_DEFAULTS.numProcesses})
  --num-out-files N           shard files in all (default: one per 32 MiB of text, a multiple of
                              --num-processes, at most 1000, the reference's fixed count)
  --output-format F           shards (ours, default) or tfrecord (the reference's TFRecords of
                              tf.train.Examples, for its trainer and NVIDIA's ELECTRA)
  --seed N                    random seed; same seed and process count give identical output (default ${BUILD_DEFAULTS.seed})
  --blanks-separate-docs      blank lines end documents (default)
  --no-blanks-separate-docs   ignore blank lines (each file is still a document)
  --do-lower-case / --no-lower-case        (default: lower-case)
  --do-strip-accents / --no-strip-accents  (default: strip; only applies when lower-casing)
  --skip-invalid-utf8         skip lines that are not UTF-8, with a warning, instead of failing
  --quiet                     no progress bar
`;

function outputFormatFlag(value: unknown): 'shards' | 'tfrecord' | undefined {
  if (value === undefined) return undefined;
  if (value === 'shards' || value === 'tfrecord') return value;
  throw new UsageError(`--output-format must be shards or tfrecord, got '${String(value)}'`);
}

async function run(argv: string[]): Promise<number> {
  const flags = readCommandFlags(argv, {
    command: 'build-pretraining-dataset', usage: HELP, required: [['corpus-dir', 'vocab-file', 'output-dir']],
    options: {
      'corpus-dir': { type: 'string' }, 'vocab-file': { type: 'string' }, 'output-dir': { type: 'string' },
      'max-seq-length': { type: 'string' }, 'num-processes': { type: 'string' }, 'num-out-files': { type: 'string' },
      seed: { type: 'string' }, 'output-format': { type: 'string' },
      'blanks-separate-docs': { type: 'boolean' }, 'no-blanks-separate-docs': { type: 'boolean' },
      'do-lower-case': { type: 'boolean' }, 'no-lower-case': { type: 'boolean' },
      'do-strip-accents': { type: 'boolean' }, 'no-strip-accents': { type: 'boolean' },
      'skip-invalid-utf8': { type: 'boolean' }, quiet: { type: 'boolean' },
    },
  });
  if (typeof flags === 'number') return flags;

  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  // Created on the first progress report (its total is known only then).
  const view: { bar: Progress | null } = { bar: null };
  try {
    const config = {
      corpusDir: requiredString(flags, 'corpus-dir'),
      vocabFile: requiredString(flags, 'vocab-file'),
      outputDir: requiredString(flags, 'output-dir'),
      maxSeqLength: intFlag(flags, 'max-seq-length'),
      numProcesses: intFlag(flags, 'num-processes'),
      numOutFiles: intFlag(flags, 'num-out-files'),
      seed: intFlag(flags, 'seed'),
      blanksSeparateDocs: toggle(flags, 'blanks-separate-docs', 'no-blanks-separate-docs', BUILD_DEFAULTS.blanksSeparateDocs),
      lowerCase: toggle(flags, 'do-lower-case', 'no-lower-case', BUILD_DEFAULTS.lowerCase),
      stripAccents: toggle(flags, 'do-strip-accents', 'no-strip-accents', BUILD_DEFAULTS.stripAccents),
      skipInvalidUtf8: flags.values['skip-invalid-utf8'] === true,
      outputFormat: outputFormatFlag(flags.values['output-format']),
    };
    const quiet = flags.values.quiet === true;
    checkOutputFolder(config.outputDir, '--output-dir');
    const result = await buildPretrainingDataset(config, {
      signal: controller.signal,
      onProgress: (p) => {
        if (quiet) return;
        view.bar ??= new Progress({ total: p.totalBytes, label: 'building examples', unit: 'bytes' });
        view.bar.update(p.bytesRead);
      },
      onWarning: (w) => {
        // Start a fresh line if a live bar is drawn.
        process.stderr.write(`${view.bar && process.stderr.isTTY ? '\n' : ''}warning: ${w}\n`);
      },
    });
    const m = result.manifest;
    view.bar?.finish(`${m.counts.examples.toLocaleString('en-US')} examples`);
    const mbps = result.seconds > 0 ? m.corpus.bytes / 1e6 / result.seconds : 0;
    process.stdout.write(result.alreadyComplete
      ? `${result.outputDir} already holds this build: ${m.counts.examples} examples in ${m.shards.length} shards\n`
      : `wrote ${m.counts.examples} examples (max_seq_length ${m.maxSeqLength}, ${m.dtype}) in ${m.shards.length} ${m.outputFormat === 'tfrecord' ? 'TFRecord files' : 'shards'} to ${result.outputDir}` +
        ` from ${m.corpus.files} files, ${(m.corpus.bytes / 1e6).toFixed(1)} MB in ${result.seconds.toFixed(1)} s (${mbps.toFixed(2)} MB/s)` +
        (result.jobsReused > 0 ? `; ${result.jobsReused} of ${m.numProcesses} jobs reused from an earlier run` : '') +
        (result.threads < m.numProcesses ? `; ${result.threads} thread${result.threads > 1 ? 's' : ''} (a worker thread needs ${MIN_BYTES_PER_WORKER >> 20} MiB of corpus to pay for its start)` : '') + '\n');
    return 0;
  } catch (e) {
    if (view.bar && process.stderr.isTTY) process.stderr.write('\n');
    if (e instanceof BuildInterruptedError) {
      process.stderr.write(`\nelectra build-pretraining-dataset: ${e.message}\n`);
      return 130;
    }
    process.stderr.write(`electra build-pretraining-dataset: ${(e as Error).message}\n`);
    return exitStatusFor(e);
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

export const buildPretrainingDatasetCommand: Command = {
  name: 'build-pretraining-dataset',
  summary: 'Turn a directory of text files into pre-training shards',
  run,
};
