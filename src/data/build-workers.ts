// One worker thread per build job. Workers start loading their code at once, while the main thread
// plans the build (and builds the tokenizer they will share); run() then hands each its job and
// drops those whose job is already done.
import { Worker } from 'node:worker_threads';
import { BuildInterruptedError, type BuildPlan, type JobResult, type TokenizerSettings } from './build-job.js';

/** What a worker starts with. */
export interface WorkerStart {
  jobId: number;
  tokenizerModule: string;
  settings: TokenizerSettings;
}

/** Main thread -> worker. */
export interface WorkerRun {
  type: 'run';
  plan: BuildPlan;
  /** The tokenizer module's shareTokenizer result, when it has one. */
  sharedTokenizer?: unknown;
}

/** Worker -> main thread. */
export type WorkerMessage =
  | { type: 'progress'; bytes: number; examples: number }
  | { type: 'warning'; message: string }
  | { type: 'done'; result: JobResult };

export interface WorkerHooks {
  onProgress: (jobId: number, bytes: number, examples: number) => void;
  onDone: (result: JobResult) => void;
  onWarning?: (message: string) => void;
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

export class BuildWorkers {
  private readonly workers = new Map<number, Worker>();
  private readonly exited = new Map<number, number>();
  private readonly finished = new Set<number>();
  private firstError: Error | null = null;
  private listener: ((jobId: number, event: 'exit' | 'error' | 'done') => void) | null = null;
  private hooks: WorkerHooks | null = null;

  private constructor(jobIds: readonly number[], tokenizerModule: string, settings: TokenizerSettings) {
    for (const jobId of jobIds) {
      const start: WorkerStart = { jobId, tokenizerModule, settings };
      const worker = startWorker(new URL('./build-worker.js', import.meta.url), start);
      this.workers.set(jobId, worker);
      worker.on('message', (m: WorkerMessage) => {
        const hooks = this.hooks;
        if (!hooks) return;
        if (m.type === 'progress') hooks.onProgress(jobId, m.bytes, m.examples);
        else if (m.type === 'warning') hooks.onWarning?.(m.message);
        else hooks.onDone(m.result);
      });
      worker.on('error', (e) => {
        this.firstError ??= e instanceof Error ? e : new Error(String(e));
        this.listener?.(jobId, 'error');
      });
      worker.on('exit', (code) => {
        this.workers.delete(jobId);
        this.exited.set(jobId, code);
        this.listener?.(jobId, 'exit');
      });
    }
  }

  /** Starts a worker for each of jobIds, each loading its tokenizer. */
  static start(jobIds: readonly number[], tokenizerModule: string, settings: TokenizerSettings): BuildWorkers {
    return new BuildWorkers(jobIds, tokenizerModule, settings);
  }

  /** True when job jobId has a worker (started and not stopped). */
  has(jobId: number): boolean {
    return this.workers.has(jobId);
  }

  /**
   * Runs the listed jobs of plan (the other workers are stopped) and resolves when all reported their
   * result. On an error or an abort every worker is stopped before the promise rejects, so the caller
   * may remove files they were writing.
   */
  run(plan: BuildPlan, sharedTokenizer: unknown, jobIds: readonly number[], hooks: WorkerHooks, signal?: AbortSignal): Promise<void> {
    this.hooks = hooks;
    const wanted = new Set(jobIds);
    for (const [jobId, worker] of this.workers) if (!wanted.has(jobId)) void worker.terminate();
    const done = this.finished;
    const onDone = hooks.onDone;
    hooks.onDone = (r) => {
      done.add(r.jobId);
      onDone(r);
      this.listener?.(r.jobId, 'done');
    };
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (error: Error | null): void => {
        if (settled) return;
        settled = true;
        this.listener = null;
        signal?.removeEventListener('abort', onAbort);
        if (error) void this.terminate().then(() => reject(error));
        else resolve();
      };
      const onAbort = (): void => finish(new BuildInterruptedError());
      const check = (): void => {
        if (this.firstError) return finish(this.firstError);
        // A job is over once it reported its result (its files are in place); the thread's own exit
        // can take a while and need not be waited for.
        for (const jobId of wanted) {
          if (done.has(jobId)) continue;
          const code = this.exited.get(jobId);
          if (code === undefined) return;
          return finish(new Error(`build job ${jobId} stopped (exit code ${code}) without finishing`));
        }
        finish(null);
      };
      this.listener = () => check();
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      for (const jobId of wanted) {
        const run: WorkerRun = { type: 'run', plan, sharedTokenizer };
        this.workers.get(jobId)?.postMessage(run);
      }
      check();
    });
  }

  /** Stops every worker still running (those that reported their result are left to end by themselves). */
  async terminate(): Promise<void> {
    await Promise.all([...this.workers].filter(([jobId]) => !this.finished.has(jobId)).map(([, w]) => w.terminate()));
  }
}
