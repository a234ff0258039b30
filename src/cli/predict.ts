// `electra predict` and `electra fill-mask`: JSON lines (or plain text lines) on stdin, one JSON
// line out per input, in order, run in batches of what has arrived (so a pipe that feeds a line at
// a time gets each answer at once), progress on stderr.
import type { Command } from './commands.js';
import { intFlag, readCommandFlags, requiredString, stringFlag, type ParsedFlags } from './parse-options.js';
import { utf8LineChunks } from './lines.js';
import { FormatError, InputError, UsageError } from '../errors.js';
import { readHparamsArgument } from '../finetune/hparams.js';
import type { Predictor } from '../pretrain/predictor.js';
import { openPredictor, type OpenPredictorOptions } from '../serve/predictors.js';
import type { TruncationStrategy } from '../tokenizer/tokenizer.js';
import { Progress } from '../util/progress.js';

const TRUNCATIONS: readonly TruncationStrategy[] = ['longest_first', 'only_first', 'only_second'];

/** --truncation, --batch-size and --quantize, shared by predict, fill-mask and serve. */
export function modelRunFlags(flags: ParsedFlags): OpenPredictorOptions {
  const truncation = stringFlag(flags, 'truncation');
  if (truncation !== undefined && !TRUNCATIONS.includes(truncation as TruncationStrategy)) {
    throw new UsageError(`--truncation must be one of ${TRUNCATIONS.join(', ')}, got '${truncation}'`);
  }
  const maxBatch = intFlag(flags, 'batch-size', { min: 1, max: 4096 });
  const quantize = stringFlag(flags, 'quantize');
  if (quantize !== undefined && quantize !== 'int8') throw new UsageError(`--quantize must be int8, got '${quantize}'`);
  return {
    ...(truncation ? { truncation: truncation as TruncationStrategy } : {}), ...(maxBatch ? { maxBatch } : {}),
    ...(quantize ? { quantize } : {}),
  };
}

export const MODEL_RUN_OPTIONS = {
  model: { type: 'string' }, truncation: { type: 'string' }, 'batch-size': { type: 'string' }, quantize: { type: 'string' },
} as const;

/** One input line: a JSON value when it starts with '{' or '"', else the line as text. */
export function parseInputLine(line: string, where: string): unknown {
  const t = line.trimStart();
  if (!t.startsWith('{') && !t.startsWith('"')) return line;
  try {
    return JSON.parse(line) as unknown;
  } catch (err) {
    throw new FormatError(where, `invalid JSON (${(err as Error).message}); expected {"text": ...} or a plain line of text`);
  }
}

/**
 * Streams stdin through the predictor to stdout. Stops at the first bad line (exit 2, naming it;
 * the lines before it are answered) and on Ctrl-C (exit 130, after the batch being run).
 */
export async function predictLines(predictor: Predictor, command: string, input: AsyncIterable<Buffer> = process.stdin as AsyncIterable<Buffer>): Promise<number> {
  const progress = new Progress({ label: command, unit: 'items' });
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
    process.stdin.destroy();
  };
  process.on('SIGINT', onSigint);
  let lineNo = 0;
  let done = 0;
  try {
    for await (const lines of utf8LineChunks(input)) {
      for (let start = 0; start < lines.length && !interrupted; start += predictor.maxBatch) {
        const prepared = lines.slice(start, start + predictor.maxBatch).map((line) => {
          const where = `stdin line ${++lineNo}`;
          try {
            return predictor.prepare(parseInputLine(line, where));
          } catch (err) {
            if (err instanceof InputError) throw new FormatError(where, err.message);
            throw err;
          }
        });
        const out = predictor.run(prepared).map((r) => JSON.stringify(r) + '\n').join('');
        if (!process.stdout.write(out)) await new Promise((resolve) => process.stdout.once('drain', resolve));
        done += prepared.length;
        progress.update(done);
      }
      if (interrupted) break;
    }
  } catch (err) {
    // Ctrl-C ends stdin under the reader.
    if (!interrupted) throw err;
  } finally {
    process.removeListener('SIGINT', onSigint);
    progress.finish();
  }
  return interrupted ? 130 : 0;
}

/**
 * Runs the records of a file (predictor.readFile: the task's training format) in batches to stdout.
 * The whole file is read and every record checked before the first batch runs, so a bad file
 * (exit 2, naming file and line) writes nothing.
 */
export async function predictFile(predictor: Predictor, file: string, reader: unknown, command: string): Promise<number> {
  if (!predictor.readFile) throw new UsageError(`--input takes a fine-tuned model's task files; ${predictor.task} reads JSON lines from stdin`);
  const prepared = predictor.readFile(file, reader).map(({ record, where }) => {
    try {
      return predictor.prepare(record);
    } catch (err) {
      if (err instanceof InputError) throw new FormatError(where, err.message);
      throw err;
    }
  });
  const progress = new Progress({ label: command, unit: 'items', total: prepared.length });
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
  };
  process.on('SIGINT', onSigint);
  try {
    for (let start = 0; start < prepared.length && !interrupted; start += predictor.maxBatch) {
      const batch = prepared.slice(start, start + predictor.maxBatch);
      const out = predictor.run(batch).map((r) => JSON.stringify(r) + '\n').join('');
      if (!process.stdout.write(out)) await new Promise((resolve) => process.stdout.once('drain', resolve));
      progress.update(start + batch.length);
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
    progress.finish();
  }
  return interrupted ? 130 : 0;
}

const ioHelp = `Input: one input per line, either JSON {"text": "...", "text_pair": "..."} (text_pair optional)
or a plain line of text. Output: one JSON line per input, in order, written as each batch is done.
A line the model cannot take (invalid JSON, too long without --truncation) stops the command
with exit code 2 naming the line; the lines before it have been answered.

  --model DIR            a model folder, a checkpoint or a pre-training model dir (its newest checkpoint)
  --truncation STRATEGY  cut inputs longer than max_position_embeddings: longest_first,
                         only_first or only_second (default: refuse them)
  --batch-size N         inputs run together (default 8)
  --quantize int8        run the dense layers in int8 (dynamic quantization; attention, LayerNorm
                         and softmax stay fp32)`;

const predictUsage = `Usage: electra predict --model DIR [--task NAME] [--truncation STRATEGY] [--batch-size N] [--quantize int8] < in.jsonl > out.jsonl
       electra predict --model DIR [--task NAME] --input FILE [--reader JSON] ... > out.jsonl

Runs a model on each input:
- a fine-tuned model (a folder \`electra finetune\` wrote, or an HF ElectraFor*Classification /
  ElectraForQuestionAnswering folder), by its task's kind:
    classification   {"text", "text_pair"?}  -> {"label", "score", "probabilities": {label: p}}
    regression       {"text", "text_pair"?}  -> {"score"}
    tagging          {"text"} or {"words": [...]}
                     -> {"tags": [{"word", "tag", "score", "start", "end"}]} (offsets with "text")
    QA               {"question", "context"} -> {"text", "start", "end", "probability",
                     "noAnswerScore", "answerable", "nbest"}
    multiple choice  {"context", "question"?, "choices": [...]} -> {"choice", "score", "probabilities"}
  Offsets are [start, end) in code points. Tagging and QA take input of any length (pieces,
  doc_stride windows); sentence inputs longer than the task's max_seq_length need --truncation.
- a pre-trained discriminator (ElectraForPreTraining): per token, the probability that it was
  replaced: {"tokens": [...], "offsets": [[start, end], ...], "probs": [...]}.

${ioHelp}
  --task NAME            the task of a fine-tuned folder that holds several
  --input FILE           a fine-tuned task's file in the format it trains from, instead of stdin:
                         a CSV/TSV/JSON-lines table (classification, regression), word/TAG or
                         CoNLL (tagging), SQuAD JSON or MRQA .jsonl (QA), choice lines (multiple
                         choice); one output line per example, in file order; labels are not read.
                         The whole file is checked first: a bad one writes nothing (exit 2, file:line)
  --reader JSON          the file's reader settings, as the task's hparam takes them (JSON or a
                         JSON file), e.g. {"text_b_column": 2, "header": true} or {"format": "conll"},
                         each over the task's own: those it was trained with (kept in the folder);
                         for GLUE/brown tasks and older folders, that hparam's defaults (TSV/CSV by
                         extension, text column 0, header detected; word/TAG or CoNLL detected)
`;

const fillMaskUsage = `Usage: electra fill-mask --model DIR [--top-k K] [--truncation STRATEGY] [--batch-size N] [--quantize int8] < in.jsonl

Fills each [MASK] of each input with a generator / masked LM (ElectraForMaskedLM: a pre-training
run's generator/, or any such HF folder), as HF's fill-mask pipeline: for one [MASK], a list of
{"score", "token", "token_str", "sequence"} (the K most likely tokens); for several, one such
list per [MASK].

${ioHelp}
  --top-k K              candidates per [MASK] (default 5)
`;

export const predictCommand: Command = {
  name: 'predict',
  summary: 'Run a fine-tuned model or a discriminator on JSON lines from stdin',
  async run(argv) {
    const flags = readCommandFlags(argv, {
      command: 'predict', usage: predictUsage, required: [['model']],
      options: { ...MODEL_RUN_OPTIONS, task: { type: 'string' }, input: { type: 'string' }, reader: { type: 'string' } },
    });
    if (typeof flags === 'number') return flags;
    const task = stringFlag(flags, 'task');
    const input = stringFlag(flags, 'input');
    const reader = stringFlag(flags, 'reader');
    if (reader !== undefined && input === undefined) throw new UsageError('--reader describes an --input file; give --input FILE');
    const { predictor } = openPredictor(requiredString(flags, 'model'), {
      ...modelRunFlags(flags), ...(task === undefined ? {} : { task }), kinds: ['finetuned', 'discriminator'],
    });
    process.stderr.write(`electra predict: ${predictor.task}\n`);
    if (input !== undefined) return predictFile(predictor, input, reader === undefined ? {} : readHparamsArgument(reader), 'predict');
    return predictLines(predictor, 'predict');
  },
};

export const fillMaskCommand: Command = {
  name: 'fill-mask',
  summary: 'Fill [MASK] tokens with a generator / masked LM, JSON lines in and out',
  async run(argv) {
    const flags = readCommandFlags(argv, {
      command: 'fill-mask', usage: fillMaskUsage, required: [['model']], options: { ...MODEL_RUN_OPTIONS, 'top-k': { type: 'string' } },
    });
    if (typeof flags === 'number') return flags;
    const topK = intFlag(flags, 'top-k', { min: 1, max: 1000 });
    const { predictor } = openPredictor(requiredString(flags, 'model'), { ...modelRunFlags(flags), ...(topK ? { topK } : {}), kinds: ['fill-mask'] });
    return predictLines(predictor, 'fill-mask');
  },
};
