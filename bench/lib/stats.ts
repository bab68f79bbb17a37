/** Small statistics for benchmark rounds, and the machine's load while they ran. */
import { loadavg } from 'node:os';

/** The median of `values` (the mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Samples the 1-minute load average every `everyMs` until `stop()`, which returns min, median and max. */
export function sampleLoad(everyMs = 1000): { stop(): { min: number; median: number; max: number } } {
  const samples: number[] = [loadavg()[0]!];
  const timer = setInterval(() => samples.push(loadavg()[0]!), everyMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      samples.push(loadavg()[0]!);
      return { min: Math.min(...samples), median: median(samples), max: Math.max(...samples) };
    },
  };
}

/** `load 1m: 3.1 (2.5-4.0) on 2 CPUs`: the load the numbers were taken under. */
export function formatLoad(load: { min: number; median: number; max: number }, cpus: number): string {
  return `load average (1 min): median ${load.median.toFixed(2)}, range ${load.min.toFixed(2)}-${load.max.toFixed(2)}, on ${cpus} CPUs`;
}
