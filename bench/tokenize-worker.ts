// Bench helper: the tokenizer's speed in a fresh worker thread (a cold JIT, as each build worker has).
// Loading the tokenizer and the text is not timed; only encodeIds over every line is.
import { parentPort, workerData } from 'node:worker_threads';
import { BertTokenizer } from '../src/tokenizer/index.js';

const { vocab, lines } = workerData as { vocab: string; lines: string[] };
const tokenizer = BertTokenizer.fromVocabFile(vocab);
const c0 = process.cpuUsage();
const t0 = performance.now();
let tokens = 0;
for (const line of lines) tokens += tokenizer.encodeIds(line).length;
const seconds = (performance.now() - t0) / 1000;
const c = process.cpuUsage(c0);
parentPort!.postMessage({ seconds, cpuSeconds: (c.user + c.system) / 1e6, tokens });
