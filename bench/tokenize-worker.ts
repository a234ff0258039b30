// Bench helper: the tokenizer's speed in a fresh worker thread (a cold JIT, as each build worker has).
// Reports the encodeIds time alone and with the tokenizer's setup (loading its module, reading the
// vocabulary, building the tries), which a user pays as the builder's user pays its own.
// The text arrives with the thread (in memory) and is not timed.
import { parentPort, workerData } from 'node:worker_threads';

const { vocab, lines } = workerData as { vocab: string; lines: string[] };
const c0 = process.cpuUsage();
const t0 = performance.now();
const { BertTokenizer } = await import('../src/tokenizer/tokenizer.js');
const tokenizer = BertTokenizer.fromVocabFile(vocab);
const t1 = performance.now();
let tokens = 0;
for (const line of lines) tokens += tokenizer.encodeIds(line).length;
const t2 = performance.now();
const c = process.cpuUsage(c0);
parentPort!.postMessage({ seconds: (t2 - t1) / 1000, withSetupSeconds: (t2 - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6, tokens });
