// Worker side of TokenizerPool: one BertTokenizer per thread; batches in, packed typed arrays out.
import { parentPort, workerData } from 'node:worker_threads';
import { BertTokenizer, type BertTokenizerOptions } from './tokenizer.js';
import { packBatch, unpackTexts, type BatchRequest } from './pool-protocol.js';

interface PoolWorkerData {
  tokens: string[];
  options: BertTokenizerOptions;
}

const data = workerData as PoolWorkerData;
const tokenizer = BertTokenizer.fromVocab(data.tokens, data.options);
parentPort!.on('message', (request: BatchRequest) => {
  try {
    const packed = packBatch(tokenizer, unpackTexts(request.joined, request.lengths), request.withOffsets);
    const transfer = [packed.lengths.buffer, packed.ids.buffer];
    if (packed.offsets) transfer.push(packed.offsets.buffer);
    if (packed.wordIds) transfer.push(packed.wordIds.buffer);
    parentPort!.postMessage({ id: request.id, batch: packed }, transfer as ArrayBuffer[]);
  } catch (err) {
    parentPort!.postMessage({ id: request.id, error: err instanceof Error ? err.message : String(err) });
  }
});
