// A one-line progress bar for long jobs: redrawn in place on a terminal, silent otherwise.
export interface ProgressBarOptions {
  /** Total amount of work (bytes or items). */
  total: number;
  label?: string;
  /** 'bytes' shows MB and MB/s; 'items' shows counts and items/s. */
  unit?: 'bytes' | 'items';
  stream?: NodeJS.WriteStream;
  /** Redraw at most this often. */
  minIntervalMs?: number;
  width?: number;
}

export class ProgressBar {
  private readonly started = performance.now();
  private lastDraw = 0;
  private drawn = false;
  private readonly stream: NodeJS.WriteStream;
  private readonly enabled: boolean;

  constructor(private readonly options: ProgressBarOptions) {
    this.stream = options.stream ?? process.stderr;
    this.enabled = Boolean(this.stream.isTTY);
  }

  /** Reports progress; `extra` is appended (e.g. "12,345 examples"). Cheap when called often. */
  update(done: number, extra = ''): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.lastDraw < (this.options.minIntervalMs ?? 100)) return;
    this.lastDraw = now;
    this.draw(done, extra, now);
  }

  /** Draws the final state and ends the line. */
  finish(done: number, extra = ''): void {
    if (!this.enabled) return;
    this.draw(done, extra, performance.now());
    this.stream.write('\n');
    this.drawn = false;
  }

  /** Clears the bar so that other output (a warning) can be printed on a clean line. */
  clear(): void {
    if (this.enabled && this.drawn) this.stream.write('\r\x1b[2K');
  }

  /** The bar's text for `done` after `seconds`; exposed for tests. */
  render(done: number, extra: string, seconds: number): string {
    const total = Math.max(this.options.total, 0);
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const width = this.options.width ?? 24;
    const filled = Math.round(frac * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 && total > done ? Math.ceil((total - done) / rate) : 0;
    const bytes = (this.options.unit ?? 'bytes') === 'bytes';
    const amount = bytes ? `${mb(done)}/${mb(total)} MB ${mb(rate)} MB/s` : `${done}/${total} ${rate.toFixed(1)}/s`;
    const parts = [this.options.label ?? '', `[${bar}]`, `${(frac * 100).toFixed(0).padStart(3)}%`, amount, `ETA ${eta}s`];
    if (extra) parts.push(extra);
    return parts.filter((p) => p !== '').join(' ');
  }

  private draw(done: number, extra: string, now: number): void {
    const line = this.render(done, extra, (now - this.started) / 1000);
    const cols = this.stream.columns ?? 120;
    this.stream.write('\r\x1b[2K' + line.slice(0, Math.max(10, cols - 1)));
    this.drawn = true;
  }
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}
