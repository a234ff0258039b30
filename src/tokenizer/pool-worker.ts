// Worker side of TokenizerPool: one BertTokenizer per thread; batches in, packed typed arrays out.
import { parentPort, workerData } from 'node:worker_threads';
import { BertTokenizer, type BertTokenizerData } from './tokenizer.js';
import { packBatch, type BatchRequest } from './pool-protocol.js';

const tokenizer = BertTokenizer.fromData(workerData as BertTokenizerData);
parentPort!.on('message', (request: BatchRequest) => {
  try {
    const packed = packBatch(tokenizer, request.texts, request.withOffsets);
    const transfer = [packed.lengths.buffer, packed.ids.buffer];
    if (packed.offsets) transfer.push(packed.offsets.buffer);
    if (packed.wordIds) transfer.push(packed.wordIds.buffer);
    parentPort!.postMessage({ id: request.id, batch: packed }, transfer as ArrayBuffer[]);
  } catch (err) {
    parentPort!.postMessage({ id: request.id, error: err instanceof Error ? err.message : String(err) });
  }
});
