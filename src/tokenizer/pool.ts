// Tokenizes large batches on all cores: a few worker threads, each with its own BertTokenizer
// (and word cache) made from one shared copy of the tries; the batch is cut into chunks handed out
// as workers become free.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { BertTokenizer, type BertTokenizerOptions } from './tokenizer.js';
import { Vocab } from './vocab.js';
import { concatBatches, type BatchRequest, type EncodedBatch } from './pool-protocol.js';

export type { EncodedBatch } from './pool-protocol.js';

/** A TokenizerPool's tokenizer settings and thread count. */
export interface TokenizerPoolOptions extends BertTokenizerOptions {
  /** Worker threads; default: available parallelism. */
  threads?: number;
}

interface Reply {
  id: number;
  batch?: EncodedBatch;
  error?: string;
}

/** A BertTokenizer spread over worker threads, for encoding large batches of texts. */
export class TokenizerPool {
  readonly threads: number;
  private readonly workers: Worker[];
  private readonly idle: Worker[];
  private readonly waiting: (() => void)[] = [];
  private readonly pending = new Map<number, { resolve: (b: EncodedBatch) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private closed = false;

  constructor(vocab: Vocab | readonly string[], opts: TokenizerPoolOptions = {}) {
    const checked = vocab instanceof Vocab ? vocab : new Vocab(vocab);
    this.threads = Math.max(1, opts.threads ?? availableParallelism());
    const options: BertTokenizerOptions = {
      lowerCase: opts.lowerCase,
      stripAccents: opts.stripAccents,
      maxInputCharsPerWord: opts.maxInputCharsPerWord,
    };
    // Built once here; each worker rebuilds it from this data (tries in shared memory, not copied).
    const data = new BertTokenizer(checked, options).toData();
    const url = new URL('./pool-worker.js', import.meta.url);
    this.workers = Array.from({ length: this.threads }, () => {
      const worker = new Worker(url, { workerData: data });
      worker.on('message', (reply: Reply) => this.settle(worker, reply));
      worker.on('error', (err) => this.failAll(err));
      worker.unref();
      return worker;
    });
    this.idle = [...this.workers];
  }

  static fromVocabFile(path: string, opts?: TokenizerPoolOptions): TokenizerPool {
    return new TokenizerPool(Vocab.fromFile(path), opts);
  }

  /**
   * WordPiece pieces (no special tokens) of every text, in order; with offsets (code points) and
   * word indices when asked. Equal to BertTokenizer.pieces / encodeIds text by text.
   */
  async encodeBatch(texts: readonly string[], opts: { withOffsets?: boolean; chunkSize?: number } = {}): Promise<EncodedBatch> {
    if (this.closed) throw new Error('the tokenizer pool is closed');
    const withOffsets = opts.withOffsets ?? false;
    // Enough chunks to balance uneven texts across workers, each large enough to amortise messaging.
    const chunkSize = opts.chunkSize ?? Math.max(64, Math.ceil(texts.length / (this.threads * 8)));
    const jobs: Promise<EncodedBatch>[] = [];
    for (let from = 0; from < texts.length; from += chunkSize) jobs.push(this.run(texts.slice(from, from + chunkSize), withOffsets));
    return concatBatches(await Promise.all(jobs), withOffsets);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private async run(texts: string[], withOffsets: boolean): Promise<EncodedBatch> {
    let worker = this.idle.pop();
    while (!worker) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      worker = this.idle.pop();
    }
    worker.ref();
    const id = this.nextId++;
    const request: BatchRequest = { id, texts, withOffsets };
    return new Promise<EncodedBatch>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage(request);
    });
  }

  private settle(worker: Worker, reply: Reply): void {
    const job = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    worker.unref();
    this.idle.push(worker);
    this.waiting.shift()?.();
    if (!job) return;
    if (reply.error !== undefined || !reply.batch) job.reject(new Error(`tokenizer worker: ${reply.error ?? 'no result'}`));
    else job.resolve(reply.batch);
  }

  private failAll(err: Error): void {
    for (const job of this.pending.values()) job.reject(err);
    this.pending.clear();
  }
}
