// The worker threads of a build. They start loading their code at once, while the main thread plans
// the build (and builds the tokenizer they will share); run() then hands them the list of work units.
// Each worker claims units from a counter in shared memory and sends back their tokens on a port of
// its own; the main thread claims units from the same counter and builds every job's examples in
// unit order. It reads the ports synchronously between units (receiveMessageOnPort): results that
// waited for its event loop would keep the next unit from being taken in while it tokenized more,
// and the workers would stall on the window of units handed out ahead.
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { BuildPlan, TokenizedUnit, TokenizerSettings, WorkUnit } from './build-job.js';
import { CorpusFileError } from './text-lines.js';

/** What a worker starts with. */
export interface WorkerStart {
  tokenizerModule: string;
  settings: TokenizerSettings;
}

/** Main thread -> worker. */
export interface WorkerRun {
  type: 'run';
  plan: BuildPlan;
  units: WorkUnit[];
  /** UnitClaims' shared memory. */
  claims: SharedArrayBuffer;
  /** Where this worker sends its WorkerMessages. */
  results: MessagePort;
  /** The tokenizer module's shareTokenizer result, when it has one. */
  sharedTokenizer?: unknown;
}

/** Worker -> main thread: a unit tokenized, or why it could not be. */
export type WorkerMessage =
  | { type: 'unit'; index: number; unit: TokenizedUnit }
  | { type: 'unit-error'; index: number; error: { message: string; file?: string } };

// Fields of the claims array.
const NEXT = 0; // the next unit to hand out
const CONSUMED = 1; // units the main thread has taken in
const STOP = 2; // 1: hand out nothing more
const POSTED = 3; // results the workers have sent (main thread waits on it)
const FIELDS = 4;

/**
 * Which thread tokenizes which unit: a counter in shared memory. At most `window` units are handed
 * out ahead of the main thread's consumption, so the tokens waiting in memory stay bounded.
 */
export class UnitClaims {
  readonly buffer: SharedArrayBuffer;
  private readonly a: Int32Array;

  constructor(readonly total: number, readonly window: number, buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(FIELDS * 4 + 4);
    this.a = new Int32Array(this.buffer);
    // The window travels with the buffer, so a worker need not be told it.
    if (!buffer) Atomics.store(this.a, FIELDS, window);
  }

  /** The claims of a buffer made by another thread. */
  static of(buffer: SharedArrayBuffer, total: number): UnitClaims {
    return new UnitClaims(total, Atomics.load(new Int32Array(buffer), FIELDS), buffer);
  }

  /** The next unit for this thread, or -1 when none is left or the window is full now. */
  tryClaim(): number {
    const a = this.a;
    for (;;) {
      const next = Atomics.load(a, NEXT);
      if (next >= this.total || Atomics.load(a, STOP) !== 0) return -1;
      if (next >= Atomics.load(a, CONSUMED) + this.window) return -1;
      if (Atomics.compareExchange(a, NEXT, next, next + 1) === next) return next;
    }
  }

  /** The next unit, waiting while the window is full; -1 when none is left (or the build stopped). */
  claim(): number {
    const a = this.a;
    for (;;) {
      const consumed = Atomics.load(a, CONSUMED);
      const unit = this.tryClaim();
      if (unit >= 0) return unit;
      if (Atomics.load(a, NEXT) >= this.total || Atomics.load(a, STOP) !== 0) return -1;
      Atomics.wait(a, CONSUMED, consumed, 100);
    }
  }

  /** The main thread took in units [0, count). */
  consumed(count: number): void {
    Atomics.store(this.a, CONSUMED, count);
    Atomics.notify(this.a, CONSUMED);
  }

  stop(): void {
    Atomics.store(this.a, STOP, 1);
    Atomics.notify(this.a, CONSUMED);
  }

  /** A worker sent a result (after its postMessage, so that the result can be received now). */
  posted(): void {
    Atomics.add(this.a, POSTED, 1);
    Atomics.notify(this.a, POSTED);
  }

  /** Results sent so far. */
  postedCount(): number {
    return Atomics.load(this.a, POSTED);
  }

  /** Resolves once more than `seen` results were sent, or after `timeoutMs`, without blocking this thread. */
  async whenPosted(seen: number, timeoutMs: number): Promise<void> {
    const w = Atomics.waitAsync(this.a, POSTED, seen, timeoutMs);
    if (w.async) await w.value;
  }
}

/** The node options workers get: the process's, less those a worker refuses (found on the first refusal). */
let workerExecArgv: string[] | null = null;

/**
 * A worker with this process's node options, so that e.g. --cpu-prof or --enable-source-maps apply to
 * it too. Two kinds are refused: --input-type (from `node --input-type=module -e ...`) for a file
 * entry point, and V8 flags such as --max-old-space-size (process-wide anyway); the latter are named
 * only in the error Node throws, so they are dropped from its message and the worker is started again.
 */
function startWorker(url: URL, start: WorkerStart): Worker {
  workerExecArgv ??= process.execArgv.filter((a) => !a.startsWith('--input-type'));
  try {
    return new Worker(url, { workerData: start, execArgv: workerExecArgv });
  } catch (e) {
    const refused = (e as { code?: string }).code === 'ERR_WORKER_INVALID_EXEC_ARGV' ? (e as Error).message.split(': ').slice(1).join(': ').split(', ') : [];
    const kept = workerExecArgv.filter((a) => !refused.includes(a));
    if (kept.length === workerExecArgv.length) throw e;
    workerExecArgv = kept;
    return new Worker(url, { workerData: start, execArgv: workerExecArgv });
  }
}

export interface WorkerHooks {
  /** A unit tokenized by a worker (or the error that stopped it). */
  onUnit: (index: number, unit: TokenizedUnit | Error) => void;
  /** A worker failed or stopped without finishing: the build cannot complete. */
  onFailure: (error: Error) => void;
}

export class BuildWorkers {
  private readonly workers = new Set<Worker>();
  /** The main thread's ends of the workers' result ports. */
  private ports: MessagePort[] = [];
  private hooks: WorkerHooks | null = null;
  private failure: Error | null = null;

  private constructor(readonly started: number, tokenizerModule: string, settings: TokenizerSettings) {
    for (let k = 0; k < started; k++) {
      const worker = startWorker(new URL('./build-worker.js', import.meta.url), { tokenizerModule, settings });
      this.workers.add(worker);
      worker.on('error', (e) => this.fail(e instanceof Error ? e : new Error(String(e))));
      worker.on('exit', (code) => {
        this.workers.delete(worker);
        // A worker ends by itself (code 0) once no unit is left for it.
        if (code !== 0) this.fail(new Error(`a build worker stopped (exit code ${code}) without finishing`));
      });
    }
  }

  /** Starts `count` workers, each loading the tokenizer module. */
  static start(count: number, tokenizerModule: string, settings: TokenizerSettings): BuildWorkers {
    return new BuildWorkers(count, tokenizerModule, settings);
  }

  get size(): number {
    return this.workers.size;
  }

  /** Hands the workers the units to claim; from now on hooks hear of failures, and receive() passes on results. */
  run(plan: BuildPlan, units: WorkUnit[], claims: UnitClaims, sharedTokenizer: unknown, hooks: WorkerHooks): void {
    this.hooks = hooks;
    if (this.failure) hooks.onFailure(this.failure);
    for (const worker of this.workers) {
      const { port1, port2 } = new MessageChannel();
      this.ports.push(port1);
      const run: WorkerRun = { type: 'run', plan, units, claims: claims.buffer, results: port2, sharedTokenizer };
      worker.postMessage(run, [port2]);
    }
  }

  /** Passes every result the workers have sent to hooks.onUnit, at once (no event-loop turn). */
  receive(): void {
    for (const port of this.ports) {
      for (let r = receiveMessageOnPort(port); r !== undefined; r = receiveMessageOnPort(port)) {
        const m = r.message as WorkerMessage;
        this.hooks?.onUnit(m.index, m.type === 'unit' ? m.unit : unitError(m.error));
      }
    }
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.hooks?.onFailure(error);
  }

  /** Stops every worker still running. */
  async terminate(): Promise<void> {
    this.hooks = null;
    for (const port of this.ports) port.close();
    this.ports = [];
    await Promise.all([...this.workers].map((w) => w.terminate()));
  }
}

/** The error a worker reported for a unit, as the main thread throws it. */
function unitError(e: { message: string; file?: string }): Error {
  // A CorpusFileError's message starts with its file's name.
  return e.file !== undefined && e.message.startsWith(`${e.file}: `) ? new CorpusFileError(e.file, e.message.slice(e.file.length + 2)) : new Error(e.message);
}
