// Crash and interrupt hooks for the test suite only: read from ELECTRA_TEST_* environment
// variables here and nowhere else, and not part of the public API (docs/api.md). They let a
// test kill or interrupt a run at an exact point instead of racing it with a timer.

/** ELECTRA_TEST_KILL_IN_CHECKPOINT=<step>: pre-training SIGKILLs itself halfway through writing that step's checkpoint. */
export function pretrainKillInCheckpointStep(): number | undefined {
  const m = /^(\d+)$/.exec(process.env['ELECTRA_TEST_KILL_IN_CHECKPOINT'] ?? '');
  return m ? Number(m[1]) : undefined;
}

/** ELECTRA_TEST_KILL_IN_CHECKPOINT=<trial>:<step>: fine-tuning does the same in that trial's checkpoint. */
export function finetuneKillInCheckpoint(): { trial: number; step: number } | undefined {
  const m = /^(\d+):(\d+)$/.exec(process.env['ELECTRA_TEST_KILL_IN_CHECKPOINT'] ?? '');
  return m ? { trial: Number(m[1]), step: Number(m[2]) } : undefined;
}

/** ELECTRA_TEST_SIGINT_IN_FINETUNE=<stage>:<update>: the demo sends itself SIGINT after that fine-tuning update. */
export function demoSigintAt(): { stage: string; step: number } | undefined {
  const m = /^([\w-]+):(\d+)$/.exec(process.env['ELECTRA_TEST_SIGINT_IN_FINETUNE'] ?? '');
  return m ? { stage: m[1]!, step: Number(m[2]) } : undefined;
}
