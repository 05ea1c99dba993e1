/**
 * A one-line progress bar on stderr: redrawn in place on a terminal (at most ~10 times a second), plain lines
 * at most every few seconds otherwise (logs, CI, pipes).
 */
import type { Output } from './shared.js';

const REDRAW_MS = 100;
const PLAIN_LINE_MS = 5000;
const BAR_WIDTH = 24;

export class ProgressBar {
  private lastDraw = Number.NEGATIVE_INFINITY;
  private lastText = '';
  private drawn = false;

  constructor(
    private readonly out: Output,
    private readonly now: () => number = () => performance.now(),
  ) {}

  private get tty(): boolean {
    return this.out.isTTY === true;
  }

  /** Shows `text` (from `bar()` and friends); `force` draws even if the last draw was recent. */
  update(text: string, force = false): void {
    this.lastText = text;
    const t = this.now();
    if (!force && t - this.lastDraw < (this.tty ? REDRAW_MS : PLAIN_LINE_MS)) return;
    this.lastDraw = t;
    if (this.tty) {
      const width = (this.out.columns ?? 100) - 1;
      this.out.write(`\r\x1b[2K${text.length > width ? text.slice(0, width) : text}`);
      this.drawn = true;
    } else {
      this.out.write(`${text}\n`);
    }
  }

  /** Writes a permanent line above the bar. */
  log(line: string): void {
    this.clear();
    this.out.write(`${line}\n`);
    if (this.tty && this.lastText) this.update(this.lastText, true);
  }

  /** Removes the bar (terminal) before other output. */
  done(): void {
    this.clear();
    this.lastText = '';
  }

  private clear(): void {
    if (this.tty && this.drawn) this.out.write('\r\x1b[2K');
    this.drawn = false;
  }
}

/** `[██████░░░░░░]` for `done` of `total`. */
export function bar(done: number, total: number, width = BAR_WIDTH): string {
  const filled = total > 0 ? Math.round((Math.min(done, total) / total) * width) : 0;
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

/** `1h02m`, `3m05s`, `42s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Seconds left, from the time spent so far on `done` of `total` units. */
export function eta(elapsedSeconds: number, done: number, total: number): number {
  return done > 0 ? (elapsedSeconds / done) * (total - done) : Number.NaN;
}
