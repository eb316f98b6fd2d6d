import cliProgress from 'cli-progress';
import { formatCounters, formatDuration, formatRate } from './format.js';
import type { ProgressSnapshot } from './progressModel.js';

const SHOW_CURSOR = '\x1b[?25h';

/**
 * Two live lines on a terminal: a bar with done/total, rate and ETA, and the counters per
 * state under it. Messages (failures, in_doubt, stops) are printed above the bars. The
 * lines are redrawn from `snapshot()` at most `fps` times a second, and once a second even
 * without events so the ETA and elapsed time keep moving.
 */
export class TtyProgress {
  readonly #stream: NodeJS.WriteStream;
  readonly #snapshot: () => ProgressSnapshot;
  readonly #multibar: cliProgress.MultiBar;
  #bars: cliProgress.SingleBar[] = [];
  #tick: NodeJS.Timeout | undefined;
  #active = false;
  readonly #restoreCursor = (): void => {
    if (this.#active) this.#stream.write(SHOW_CURSOR);
  };

  constructor(stream: NodeJS.WriteStream, snapshot: () => ProgressSnapshot) {
    this.#stream = stream;
    this.#snapshot = snapshot;
    this.#multibar = new cliProgress.MultiBar(
      {
        stream,
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        // The run command handles SIGINT itself (it finishes requests in flight); the bars stay up meanwhile.
        gracefulExit: false,
        fps: 8,
        barsize: 24,
        autopadding: true,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  start(): void {
    if (this.#active) return;
    this.#active = true;
    const s = this.#snapshot();
    const barLine: cliProgress.GenericFormatter = (options, params) => {
      const p = this.#snapshot();
      const pct = p.total === 0 ? 100 : Math.floor((p.done / p.total) * 100);
      return `${cliProgress.Format.BarFormat(params.progress, options)} ${String(pct).padStart(3)}% ${p.done}/${p.total} done · ${formatRate(p.perMinute)} · ETA ${formatDuration(p.etaMs)} · elapsed ${formatDuration(p.elapsedMs)}`;
    };
    const counterLine: cliProgress.GenericFormatter = () => `  ${formatCounters(this.#snapshot())}`;
    this.#bars = [
      this.#multibar.create(Math.max(1, s.total), s.done, {}, { format: barLine }),
      this.#multibar.create(1, 0, {}, { format: counterLine }),
    ];
    // A second SIGINT exits at once (process.exit): give the cursor back then too.
    process.once('exit', this.#restoreCursor);
    this.#tick = setInterval(() => this.update(), 1000);
    this.#tick.unref();
  }

  update(): void {
    if (!this.#active) return;
    const s = this.#snapshot();
    const bar = this.#bars[0];
    bar?.setTotal(Math.max(1, s.total));
    bar?.update(s.done);
    this.#bars[1]?.update(0);
  }

  /** A line above the bars (it must not contain a newline at the end). */
  log(line: string): void {
    if (this.#active) this.#multibar.log(line + '\n');
    else this.#stream.write(line + '\n');
  }

  stop(): void {
    if (!this.#active) return;
    this.update();
    clearInterval(this.#tick);
    this.#multibar.update(); // MultiBar.stop() would drop the messages still buffered by log()
    this.#multibar.stop();
    this.#active = false;
    process.off('exit', this.#restoreCursor);
  }
}
