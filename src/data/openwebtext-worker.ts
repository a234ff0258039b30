// Worker-thread entry of an OpenWebText build: runs one job (its own tokenizer, archives and output
// files) and posts its progress and result.
import { parentPort, workerData } from 'node:worker_threads';
import type { BuildPlan } from './build-job.js';
import { runOpenWebTextJob } from './openwebtext.js';
import { loadTokenizerModule } from './tokenizer-module.js';
import { checkTokenizer } from './build.js';
import { FormatError, UsageError } from '../errors.js';

const { plan, jobId, tokenizerModule } = workerData as { plan: BuildPlan; jobId: number; tokenizerModule: string };
const port = parentPort;
if (!port) throw new Error('openwebtext-worker.js must run in a worker thread');
try {
  const mod = await loadTokenizerModule(tokenizerModule);
  const tokenizer = await mod.createPretrainingTokenizer(plan.tokenizer);
  checkTokenizer(plan, tokenizer);
  const result = await runOpenWebTextJob(plan, jobId, tokenizer, (bytes, examples) => port.postMessage({ progress: [bytes, examples] }));
  port.postMessage({ result });
} catch (e) {
  port.postMessage({ error: (e as Error).message, badInput: e instanceof FormatError || e instanceof UsageError });
}
