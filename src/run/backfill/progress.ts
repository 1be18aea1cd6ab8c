/**
 * Backfill progress: a live single line on a terminal (rewritten in place), one line per
 * finished unit elsewhere (CI logs, pipes), each with chunks, points, rate and ETA.
 */
import { describeWindow, type TimeWindow } from '../../window.ts';

/** How progress is shown. */
export type ProgressMode = 'live' | 'lines' | 'off';

/** Options for {@link Progress}. */
export interface ProgressOptions {
  mode: ProgressMode;
  /** Name shown at the start of every line, e.g. `backfill demo`. */
  label: string;
  /** Units to do in this run (not counting those the checkpoint skips). */
  total: number;
  /** Writes a finished line (lines mode). */
  line: (text: string) => void;
  /** Writes raw text to the terminal (live mode); no newline added. */
  raw?: (text: string) => void;
  /** Milliseconds clock (tests pin it). */
  clock?: () => number;
}

/** Format seconds as `1:02:03` or `2:03`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

const number = new Intl.NumberFormat('en-US');

/** Tracks finished units and renders progress. */
export class Progress {
  private done = 0;
  private points = 0;
  private inFlight = 0;
  private readonly started: number;
  private readonly clock: () => number;
  private timer: NodeJS.Timeout | undefined;
  private shown = false;

  constructor(private readonly options: ProgressOptions) {
    this.clock = options.clock ?? Date.now;
    this.started = this.clock();
    if (options.mode === 'live') {
      // Refresh the rate and ETA while a long unit runs; unref so it never keeps the process alive.
      this.timer = setInterval(() => this.render(), 1000);
      this.timer.unref();
    }
  }

  /** The status part: `chunks 3/15 · 120,960 points · 35,000 points/s · ETA 0:12`. */
  status(): string {
    const elapsed = (this.clock() - this.started) / 1000;
    const rate = elapsed > 0 ? this.points / elapsed : 0;
    const eta = this.done > 0 ? (elapsed / this.done) * (this.options.total - this.done) : Number.NaN;
    const flight = this.inFlight > 0 ? ` (${this.inFlight} in flight)` : '';
    return `chunks ${this.done}/${this.options.total}${flight} · ${number.format(this.points)} points · ${number.format(Math.round(rate))} points/s · ETA ${this.done === this.options.total ? '0:00' : formatDuration(eta)}`;
  }

  /** A unit started. */
  start(): void {
    this.inFlight++;
    this.render();
  }

  /** A unit finished (or failed) after writing `points`. */
  finish(unit: TimeWindow, points: number, outcome: string): void {
    this.inFlight--;
    this.done++;
    this.points += points;
    if (this.options.mode === 'lines') {
      this.options.line(`${this.options.label}: chunk ${describeWindow(unit)} ${outcome}, ${number.format(points)} points · ${this.status()}`);
    }
    this.render();
  }

  /** Clear the live line so another message can be printed (call {@link render} after). */
  clear(): void {
    if (this.options.mode === 'live' && this.shown) this.options.raw?.('\r\x1b[2K');
    this.shown = false;
  }

  /** Redraw the live line. */
  render(): void {
    if (this.options.mode !== 'live') return;
    this.options.raw?.(`\r\x1b[2K${this.options.label}: ${this.status()}`);
    this.shown = true;
  }

  /** Stop refreshing and end the live line. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.options.mode === 'live' && this.shown) this.options.raw?.('\n');
    this.shown = false;
  }
}
