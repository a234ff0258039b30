// Worker-thread entry of a build: loads the tokenizer module at once (and the tokenizer itself when the
// module cannot share one), then runs the job it is sent. Imports only what a job needs.
import { parentPort, workerData } from 'node:worker_threads';
import type { PretrainingTokenizer } from './build-job.js';
import { loadTokenizerModule } from './tokenizer-module.js';
import type { WorkerMessage, WorkerRun, WorkerStart } from './build-workers.js';

const start = workerData as WorkerStart;
const port = parentPort;
if (!port) throw new Error('build-worker.js must run in a worker thread');
const post = (m: WorkerMessage): void => port.postMessage(m);

// The job's code and the tokenizer module load side by side.
const [{ runBuildJob }, mod] = await Promise.all([import('./build-job.js'), loadTokenizerModule(start.tokenizerModule)]);
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

function runJob(m: WorkerRun, tokenizer: PretrainingTokenizer): void {
  // Progress goes out at most every 100 ms: each message costs both threads time.
  let pendingBytes = 0;
  let lastPost = 0;
  const result = runBuildJob(m.plan, start.jobId, tokenizer, {
    onProgress: (bytes, examples) => {
      pendingBytes += bytes;
      const now = performance.now();
      if (now - lastPost < 100) return;
      lastPost = now;
      post({ type: 'progress', bytes: pendingBytes, examples });
      pendingBytes = 0;
    },
    onWarning: (message) => post({ type: 'warning', message }),
  });
  if (pendingBytes > 0) post({ type: 'progress', bytes: pendingBytes, examples: result.stats.examples });
  post({ type: 'done', result });
}

// One message, one job; without a listener left, the thread then ends. A failure surfaces as the
// worker's 'error' event.
port.once('message', (m: WorkerRun) => {
  tokenizerFor(m).then((tokenizer) => runJob(m, tokenizer)).catch((e: unknown) => {
    setImmediate(() => {
      throw e;
    });
  });
});
