/**
 * Transfer progress on stderr: a cli-progress bar with speed and ETA on a terminal; on a pipe or
 * a file, plain lines (one per 10 % when the size is known, else one per second) and a last line.
 */
import cliProgress from 'cli-progress';
import type { CliOutput } from './cli-io.js';

/** Receives progress of one transfer. */
export interface ProgressReporter {
  /** Bytes so far, and the total when known. */
  update(bytes: number, total: number | null): void;
  /** Ends the display (the bar's last frame, or the closing line). */
  finish(bytes: number): void;
  /** Ends the display without the closing line (the transfer failed). */
  abort(): void;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** `1536` → `1.5 KiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${UNITS[unit]}`;
}

/** Seconds as `1m05s` or `7s`. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

class TerminalProgress implements ProgressReporter {
  readonly #bar: cliProgress.SingleBar;
  readonly #started = Date.now();
  #began = false;

  constructor(stream: CliOutput, label: string) {
    this.#bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label} {bar} {percentage}% | {done} of {size} | {speed}/s | ETA {eta_formatted}`,
        hideCursor: true,
        barsize: 30,
        etaBuffer: 50,
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  update(bytes: number, total: number | null): void {
    const payload = { done: formatBytes(bytes), size: total === null ? '?' : formatBytes(total), speed: formatBytes(bytes / Math.max(0.001, (Date.now() - this.#started) / 1000)) };
    const size = total ?? Math.max(bytes, 1);
    if (!this.#began) {
      this.#began = true;
      this.#bar.start(size, bytes, payload);
    } else {
      this.#bar.setTotal(size);
      this.#bar.update(bytes, payload);
    }
  }

  finish(bytes: number): void {
    this.update(bytes, bytes);
    this.#bar.stop();
  }

  abort(): void {
    if (this.#began) this.#bar.stop();
  }
}

class LineProgress implements ProgressReporter {
  readonly #stream: CliOutput;
  readonly #label: string;
  readonly #started = Date.now();
  #lastStep = -1;
  #lastLineAt = 0;

  constructor(stream: CliOutput, label: string) {
    this.#stream = stream;
    this.#label = label;
  }

  #speed(bytes: number): number {
    return bytes / Math.max(0.001, (Date.now() - this.#started) / 1000);
  }

  update(bytes: number, total: number | null): void {
    const speed = this.#speed(bytes);
    if (total !== null && total > 0) {
      const step = Math.floor((bytes / total) * 10);
      if (step === this.#lastStep || step >= 10) return;
      this.#lastStep = step;
      const eta = formatSeconds((total - bytes) / speed);
      this.#stream.write(`${this.#label}: ${step * 10}% ${formatBytes(bytes)} of ${formatBytes(total)}, ${formatBytes(speed)}/s, ETA ${eta}\n`);
    } else if (Date.now() - this.#lastLineAt >= 1000) {
      this.#lastLineAt = Date.now();
      this.#stream.write(`${this.#label}: ${formatBytes(bytes)}, ${formatBytes(speed)}/s\n`);
    }
  }

  finish(bytes: number): void {
    const seconds = (Date.now() - this.#started) / 1000;
    this.#stream.write(`${this.#label}: done, ${formatBytes(bytes)} in ${seconds.toFixed(1)}s (${formatBytes(this.#speed(bytes))}/s)\n`);
  }

  abort(): void {}
}

/** A bar when `stream` is a terminal, plain lines otherwise. */
export function createProgress(stream: CliOutput, label: string): ProgressReporter {
  return stream.isTTY === true ? new TerminalProgress(stream, label) : new LineProgress(stream, label);
}
