/** Common command-line options of the benchmarks: `--duration 5 --connections 50 ...`. */

/** Options every HTTP benchmark accepts (unset ones keep the benchmark's defaults). */
export interface BenchOptions {
  duration?: number;
  warmup?: number;
  connections?: number;
  rounds?: number;
  workers?: number;
}

const NAMES = ['duration', 'warmup', 'connections', 'rounds', 'workers'] as const;

/** Parses `--name value` / `--name=value` pairs; throws on unknown names or non-numbers. */
export function benchOptions(args: readonly string[]): BenchOptions {
  const options: BenchOptions = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const match = /^--([a-z]+)(?:=(.*))?$/.exec(arg);
    const name = NAMES.find((n) => n === match?.[1]);
    if (!match || name === undefined) throw new Error(`unknown option ${arg}; known: ${NAMES.map((n) => `--${n}`).join(' ')}`);
    const text = match[2] ?? args[++i];
    const value = Number(text);
    if (text === undefined || !Number.isFinite(value) || value < 0) throw new Error(`--${name} expects a number, got ${text}`);
    options[name] = value;
  }
  return options;
}
