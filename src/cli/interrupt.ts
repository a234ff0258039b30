// Ctrl-C for the training commands: the first asks the run to stop after the current update
// and save a checkpoint; a second stops at once.
export interface Interrupt {
  signal: AbortSignal;
  /** Removes the SIGINT handler. */
  dispose(): void;
}

export function interruptOnSigint(command: string): Interrupt {
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`\nelectra ${command}: stopping after this update and saving a checkpoint (Ctrl-C again to stop at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.removeListener('SIGINT', onSigint) };
}
