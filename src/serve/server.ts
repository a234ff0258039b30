// An HTTP JSON endpoint for a predictor (Node's http module: no framework needed for three routes).
//   POST /predict  {"text": ..., "text_pair"?: ...}       -> that input's result
//                  {"inputs": [{"text": ...}, "text", ...]} -> {"results": [...]}
//   GET  /health   -> {"status": "ok", "task", "inFlight", "queued"} (503 while shutting down)
// Concurrent requests are batched dynamically: inputs queue up and run together once maxBatch are
// waiting or the first has waited maxWaitMs. Each input is checked and tokenized when its request
// arrives, so a bad request gets its 4xx at once and never joins (or spoils) a batch. close()
// stops accepting connections, answers every request already received, then resolves.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InputError } from '../errors.js';
import type { Predictor } from '../pretrain/predictor.js';

export interface ServeOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Inputs run together at most (default: the predictor's maxBatch). */
  maxBatch?: number;
  /** How long the first queued input waits for others (default 5 ms; 0 runs what is queued at once). */
  maxWaitMs?: number;
  /** Largest request body (default 1 MiB): larger gets 413. */
  maxBodyBytes?: number;
  /** Most inputs in one request (default 256). */
  maxInputsPerRequest?: number;
  /** Where a failed batch is reported (default stderr). */
  log?: (line: string) => void;
}

export interface ServerStats {
  requests: number;
  batches: number;
  inputs: number;
}

export interface ModelServer {
  readonly url: string;
  readonly port: number;
  readonly stats: ServerStats;
  /** Stops accepting, answers the requests already received, then resolves (idempotent). */
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

interface Pending {
  input: unknown;
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
}

/** Queues prepared inputs and runs them in batches (see the file comment). */
class DynamicBatcher {
  private readonly queue: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private draining = false;

  constructor(
    private readonly predictor: Predictor, private readonly maxBatch: number, private readonly maxWaitMs: number,
    private readonly stats: ServerStats, private readonly log: (line: string) => void,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  submit(inputs: readonly unknown[]): Promise<unknown[]> {
    const all = inputs.map((input) => new Promise<unknown>((resolve, reject) => this.queue.push({ input, resolve, reject })));
    this.schedule();
    return Promise.all(all);
  }

  /** From now on, run what is queued without waiting for more. */
  drain(): void {
    this.draining = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.queue.length === 0 || this.immediate) return;
    if (this.queue.length >= this.maxBatch || this.draining || this.maxWaitMs <= 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      // After the I/O already received is read: requests that arrived meanwhile join this batch.
      this.immediate = setImmediate(() => this.runBatch());
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.runBatch();
      }, this.maxWaitMs);
    }
  }

  private runBatch(): void {
    this.immediate = null;
    const batch = this.queue.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    try {
      const results = this.predictor.run(batch.map((p) => p.input));
      this.stats.batches++;
      this.stats.inputs += batch.length;
      batch.forEach((p, i) => p.resolve(results[i]));
    } catch (err) {
      this.log(`batch of ${batch.length} failed: ${(err as Error).stack ?? String(err)}`);
      batch.forEach((p) => p.reject(err as Error));
    }
    this.schedule();
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > limit) {
      reject(new HttpError(413, `the request body is ${declared} bytes; the limit is ${limit}`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpError(413, `the request body is over the limit of ${limit} bytes`));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, closing: boolean): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...(closing ? { connection: 'close' } : {}),
  });
  res.end(text);
}

/** Starts serving the predictor; resolves once listening. */
export function startServer(predictor: Predictor, options: ServeOptions = {}): Promise<ModelServer> {
  const maxBatch = Math.max(1, options.maxBatch ?? predictor.maxBatch);
  const maxBodyBytes = options.maxBodyBytes ?? 1 << 20;
  const maxInputs = options.maxInputsPerRequest ?? 256;
  const log = options.log ?? ((line: string) => process.stderr.write(`electra serve: ${line}\n`));
  const stats: ServerStats = { requests: 0, batches: 0, inputs: 0 };
  const batcher = new DynamicBatcher(predictor, maxBatch, options.maxWaitMs ?? 5, stats, log);
  let inFlight = 0;
  let closing: Promise<void> | null = null;
  let idle: (() => void) | null = null;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'use GET /health');
      send(res, closing ? 503 : 200, { status: closing ? 'shutting down' : 'ok', task: predictor.task, inFlight, queued: batcher.queued }, closing !== null);
      return;
    }
    if (path !== '/predict') throw new HttpError(404, `no route ${path}: POST /predict or GET /health`);
    if (req.method !== 'POST') throw new HttpError(405, 'use POST /predict with a JSON body');
    const body = await readBody(req, maxBodyBytes);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new HttpError(400, `invalid JSON: ${(err as Error).message}`);
    }
    const many = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) && 'inputs' in parsed;
    const records = many ? (parsed as { inputs: unknown }).inputs : [parsed];
    if (!Array.isArray(records) || records.length === 0) throw new HttpError(400, '"inputs" must be a non-empty array');
    if (records.length > maxInputs) throw new HttpError(413, `${records.length} inputs in one request; the limit is ${maxInputs}`);
    const prepared = records.map((record, i) => {
      try {
        return predictor.prepare(record);
      } catch (err) {
        if (err instanceof InputError) throw new HttpError(400, many ? `inputs[${i}]: ${err.message}` : err.message);
        throw err;
      }
    });
    const results = await batcher.submit(prepared);
    send(res, 200, many ? { results } : results[0], closing !== null);
  };

  const server: Server = createServer((req, res) => {
    stats.requests++;
    inFlight++;
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) log(`request failed: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent) send(res, status, { error: status === 500 ? 'internal error' : (err as Error).message }, closing !== null || status === 413);
    }).finally(() => {
      inFlight--;
      if (closing) server.closeIdleConnections();
      if (inFlight === 0 && idle) idle();
    });
  });
  server.keepAliveTimeout = 5000;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({
        url: `http://${host}:${address.port}`,
        port: address.port,
        stats,
        close(): Promise<void> {
          closing ??= new Promise<void>((done) => {
            const closed = new Promise<void>((r) => server.close(() => r()));
            server.closeIdleConnections();
            batcher.drain();
            const answered = inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => { idle = r; });
            void answered.then(() => {
              server.closeIdleConnections();
              return closed;
            }).then(done);
          });
          return closing;
        },
      });
    });
  });
}
