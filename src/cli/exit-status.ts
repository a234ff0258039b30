// One exit status rule for every command (README, "Exit status"): 0 done; 2 usage or bad input
// (flags, hparams, files found wrong before or during work); 1 a runtime failure (disk full, a
// diverging loss, a bug); 130 interrupted (Ctrl-C), with a checkpoint saved where the command keeps one.
import { FormatError, UsageError } from '../errors.js';
import { BuildInterruptedError } from '../data/build-job.js';
import { DemoInterrupted } from '../demo/stages.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;

export function exitStatusFor(err: unknown): number {
  if (err instanceof UsageError || err instanceof FormatError) return EXIT_USAGE;
  if (err instanceof BuildInterruptedError || err instanceof DemoInterrupted) return EXIT_INTERRUPTED;
  return EXIT_FAILURE;
}
