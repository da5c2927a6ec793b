/**
 * A text progress indicator for long runs (the CLI's): on a terminal one bar redrawn in place
 * (at most 10 times a second), elsewhere (logs, pipes) one plain line every 10 %. Writes through
 * the function it is given, so it is platform-neutral.
 */

/** Where `ProgressText` writes, and whether that is a terminal (which can redraw a line). */
export interface ProgressSink {
  readonly write: (text: string) => void;
  readonly tty: boolean;
}

/**
 * Progress of one task: `update(done, total)` as it goes, `finish()` at the end.
 *
 * @example
 * const bar = new ProgressText('replay LinUCB', 'rows', { write: (t) => process.stderr.write(t), tty: process.stderr.isTTY });
 * for (let i = 1; i <= n; i++) bar.update(i, n);
 * bar.finish();
 */
export class ProgressText {
  private readonly started = Date.now();
  private lastDraw = 0;
  private lastDecile = -1;
  private drawn = false;

  constructor(private readonly label: string, private readonly unit: string, private readonly sink: ProgressSink) {}

  update(done: number, total: number): void {
    const fraction = total > 0 ? done / total : 1;
    const elapsed = (Date.now() - this.started) / 1000;
    const left = done > 0 && done < total ? ` · ~${Math.ceil((elapsed * (total - done)) / done)} s left` : '';
    const status = `${done}/${total} ${this.unit} · ${elapsed.toFixed(0)} s${left}`;
    if (this.sink.tty) {
      const now = Date.now();
      if (done < total && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      const width = 30, filled = Math.round(fraction * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      this.sink.write(`\r\x1b[K${this.label} ${bar} ${(fraction * 100).toFixed(0).padStart(3)}% ${status}`);
      this.drawn = true;
    } else {
      const decile = Math.floor(fraction * 10);
      if (decile === this.lastDecile) return;
      this.lastDecile = decile;
      this.sink.write(`${this.label}: ${(fraction * 100).toFixed(0)}% (${status})\n`);
    }
  }

  finish(): void {
    if (this.sink.tty && this.drawn) this.sink.write('\n');
  }
}
