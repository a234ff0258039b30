// Worker-thread entry of a build: loads the tokenizer at once, then runs the job it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { runBuildJob } from './build-job.js';
import { checkTokenizer, createTokenizer } from './build.js';
import type { WorkerMessage, WorkerRun, WorkerStart } from './build-workers.js';

const start = workerData as WorkerStart;
const port = parentPort;
if (!port) throw new Error('build-worker.js must run in a worker thread');
const post = (m: WorkerMessage): void => port.postMessage(m);

const tokenizer = await createTokenizer(start.tokenizerModule, start.settings);
// One message, one job; without a listener left, the thread then ends.
port.once('message', (m: WorkerRun) => {
  checkTokenizer(m.plan, tokenizer);
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
});
