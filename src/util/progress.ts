// A progress bar on stderr: redrawn in place on a terminal; elsewhere (CI, pipes, logs) quiet
// except for one final line, so logs stay readable.

export interface ProgressOptions {
  /** What is being done, e.g. 'counting words'. */
  label: string;
  /** Total amount of work; unknown totals show a running count only. */
  total?: number;
  /** How amounts are written: 'bytes' as KiB/MiB/GiB, 'items' as plain numbers. */
  unit?: 'bytes' | 'items';
  /** Where to draw; default process.stderr. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Minimum time between redraws. */
  intervalMs?: number;
  /** Force drawing on (true) or off (false) regardless of whether the stream is a terminal. */
  live?: boolean;
  /** Amount already done before this run (a resumed job): rate and ETA count only what follows. */
  start?: number;
}

export class Progress {
  private readonly label: string;
  private readonly total: number | undefined;
  private readonly unit: 'bytes' | 'items';
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  private readonly intervalMs: number;
  private readonly live: boolean;
  private readonly startedAt = Date.now();
  private lastDrawAt = 0;
  private done = 0;
  private readonly start: number;
  private note = '';
  private finished = false;

  constructor(opts: ProgressOptions) {
    this.label = opts.label;
    this.total = opts.total;
    this.unit = opts.unit ?? 'items';
    this.stream = opts.stream ?? process.stderr;
    this.intervalMs = opts.intervalMs ?? 100;
    this.live = opts.live ?? Boolean(this.stream.isTTY);
    this.start = opts.start ?? 0;
    this.done = this.start;
  }

  /** Sets the amount done so far, and optionally a status shown after the bar (e.g. the current loss). */
  update(done: number, note?: string): void {
    this.done = done;
    if (note !== undefined) this.note = note;
    if (!this.live || this.finished) return;
    const now = Date.now();
    if (now - this.lastDrawAt < this.intervalMs) return;
    this.lastDrawAt = now;
    this.stream.write('\r' + this.line(false) + (this.note ? ` ${this.note}` : '') + '\x1b[K');
  }

  /** Adds to the amount done. */
  advance(delta: number): void {
    this.update(this.done + delta);
  }

  /** Writes the final line (on every kind of stream); `note` is appended to it. */
  finish(note?: string): void {
    if (this.finished) return;
    this.finished = true;
    const text = this.line(true) + (note ? ` ${note}` : this.note ? ` ${this.note}` : '');
    this.stream.write((this.live ? '\r' + text + '\x1b[K' : text) + '\n');
  }

  private line(final: boolean): string {
    const seconds = (Date.now() - this.startedAt) / 1000;
    const amount = this.format(this.done);
    const rate = seconds > 0 ? `${this.format((this.done - this.start) / seconds)}/s` : '';
    if (this.total === undefined || this.total <= 0) return `${this.label}: ${amount} ${rate} ${seconds.toFixed(1)}s`;
    const fraction = Math.min(1, this.done / this.total);
    // The remaining work at the rate of this run (not counting work done before `start`).
    const runFraction = this.total > this.start ? (this.done - this.start) / (this.total - this.start) : 1;
    const width = Math.max(10, Math.min(30, (this.stream.columns ?? 80) - this.label.length - 50));
    const filled = Math.round(fraction * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const eta = !final && runFraction > 0 ? ` eta ${formatSeconds((seconds / runFraction) * (1 - runFraction))}` : '';
    return `${this.label} [${bar}] ${(fraction * 100).toFixed(1)}% ${amount}/${this.format(this.total)} ${rate} ${seconds.toFixed(1)}s${eta}`;
  }

  private format(n: number): string {
    if (this.unit === 'items') return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : `${Math.round(n)}`;
    if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)}GiB`;
    if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)}MiB`;
    if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)}KiB`;
    return `${Math.round(n)}B`;
  }
}

/** 75 -> '1m15s', 3725 -> '1h02m'; under a minute as seconds. */
export function formatSeconds(s: number): string {
  const t = Math.max(0, Math.round(s));
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, '0')}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, '0')}m`;
}
