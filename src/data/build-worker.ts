// Worker-thread entry of a build: one job (see build-job.ts), reporting progress to the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { runBuildJob } from './build-job.js';
import { tokenizerForPlan, type WorkerInput, type WorkerMessage } from './build.js';

const input = workerData as WorkerInput;
const port = parentPort;
if (!port) throw new Error('build-worker.js must run in a worker thread');
const post = (m: WorkerMessage): void => port.postMessage(m);

const tokenizer = await tokenizerForPlan(input.plan, input.tokenizerModule);
const result = runBuildJob(input.plan, input.jobId, tokenizer, {
  onProgress: (bytes, examples) => post({ type: 'progress', bytes, examples }),
  onWarning: (message) => post({ type: 'warning', message }),
});
post({ type: 'done', result });
