/**
 * Benchmark runner: `npm run bench -- <name> [args...]` runs `bench/<name>.ts`.
 * The module is imported with `process.argv` set as if it were run directly
 * (`tsx bench/<name>.ts args...`), so script-style benchmarks work; if it exports a default
 * function, that is then called with the args and awaited. Benchmarks are not tests: jest
 * never loads this folder.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));

/** Names of the benchmarks in bench/ (files `<name>.ts` other than this runner). */
export function listBenchmarks(): string[] {
  return readdirSync(benchDir)
    .filter((file) => file.endsWith('.ts') && file !== 'run.ts')
    .map((file) => file.slice(0, -'.ts'.length))
    .sort();
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const usage = `usage: npm run bench -- <name> [args...]\nbenchmarks: ${listBenchmarks().join(', ') || '(none)'}`;
  if (name === undefined || name === '-h' || name === '--help') {
    console.log(usage);
    return name === undefined ? 2 : 0;
  }
  const file = join(benchDir, `${name}.ts`);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name) || !existsSync(file)) {
    console.error(`unknown benchmark ${JSON.stringify(name)}\n${usage}`);
    return 2;
  }
  process.argv = [process.argv[0]!, file, ...args];
  const module = (await import(pathToFileURL(file).href)) as { default?: unknown };
  if (typeof module.default === 'function') await (module.default as (args: string[]) => unknown)(args);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exitCode = 1;
  },
);
