// Worker-thread entry of a build: loads the tokenizer module at once (and the tokenizer itself when the
// module cannot share one), then tokenizes the units it claims until none is left, sending each back.
import { parentPort, workerData } from 'node:worker_threads';
import type { PretrainingTokenizer } from './build-job.js';
import { loadTokenizerModule } from './tokenizer-module.js';
import { UnitClaims, type WorkerMessage, type WorkerRun, type WorkerStart } from './build-workers.js';

const start = workerData as WorkerStart;
const port = parentPort;
if (!port) throw new Error('build-worker.js must run in a worker thread');

// The job code and the tokenizer module load side by side.
const [{ tokenizeUnit }, mod] = await Promise.all([import('./build-job.js'), loadTokenizerModule(start.tokenizerModule)]);
// A module that cannot share its tokenizer gets it built here, while the main thread plans.
const own = mod.shareTokenizer ? null : await mod.createPretrainingTokenizer(start.settings);

async function tokenizerFor(m: WorkerRun): Promise<PretrainingTokenizer> {
  if (!own) {
    if (m.sharedTokenizer === undefined) throw new Error(`${start.tokenizerModule}: the main thread sent no shared tokenizer`);
    const tokenizer = await mod.createPretrainingTokenizer(start.settings, m.sharedTokenizer);
    if (tokenizer.vocab.tokens.length !== m.plan.vocabSize) {
      throw new Error(`shared tokenizer has ${tokenizer.vocab.tokens.length} tokens, the build's vocabulary ${m.plan.vocabSize}`);
    }
    return tokenizer;
  }
  // Built from the module on its own: check that it has the very vocabulary the main thread planned with.
  const { checkTokenizer } = await import('./build.js');
  checkTokenizer(m.plan, own);
  return own;
}

function work(m: WorkerRun, tokenizer: PretrainingTokenizer): void {
  const claims = UnitClaims.of(m.claims, m.units.length);
  const results = m.results;
  for (let index = claims.claim(); index >= 0; index = claims.claim()) {
    let message: WorkerMessage;
    let moved: ArrayBuffer[] = [];
    try {
      const unit = tokenizeUnit(m.plan, m.units[index]!, tokenizer);
      message = { type: 'unit', index, unit };
      // The token arrays move to the main thread instead of being copied.
      moved = [unit.ids.buffer, unit.lineTokens.buffer];
    } catch (e) {
      const file = (e as { file?: unknown }).file;
      message = { type: 'unit-error', index, error: { message: (e as Error).message, ...(typeof file === 'string' ? { file } : {}) } };
    }
    results.postMessage(message, moved);
    claims.posted();
  }
}

// One message, one run; without a listener left, the thread then ends. A failure surfaces as the
// worker's 'error' event.
port.once('message', (m: WorkerRun) => {
  tokenizerFor(m).then((tokenizer) => work(m, tokenizer)).catch((e: unknown) => {
    setImmediate(() => {
      throw e;
    });
  });
});
