/**
 * Structured logging with pino. One root logger, made on first use from the environment
 * (`FUSION_DEBUG` for the level, `FUSION_LOGFILE` for an append-only file), and one child
 * per module (`{ module: name }`). Importing this file has no side effect.
 */
import { pino } from 'pino';
import type { DestinationStream, Logger, LevelWithSilent } from 'pino';

/** The logger type used across the framework (a pino logger). */
export type FusionLogger = Logger;

/** Options of `createLogger`; unset ones come from the environment. */
export interface CreateLoggerOptions {
  /** Level name; default from `FUSION_DEBUG` (see `levelFromEnv`). */
  level?: LevelWithSilent;
  /** Append to this file (synchronous writes); default `FUSION_LOGFILE`, else standard output. */
  file?: string;
  /** Write to this stream instead (tests, custom transports); wins over `file`. */
  stream?: DestinationStream;
  /** Value of the `name` field on every line (e.g. the service name). */
  name?: string;
  /** Paths of fields to replace with `[Redacted]` (pino `redact`). */
  redact?: string[];
  /** Environment to read `FUSION_DEBUG` / `FUSION_LOGFILE` from; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

const LEVELS: readonly LevelWithSilent[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const FALSY = new Set(['', '0', 'false', 'no', 'off']);

/**
 * The level `FUSION_DEBUG` asks for: a level name (`trace`, `warn`, ...) as is; unset, empty,
 * `0`, `false`, `no` or `off` give `info`; any other value gives `debug`.
 */
export function levelFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): LevelWithSilent {
  const value = (env.FUSION_DEBUG ?? '').trim().toLowerCase();
  const named = LEVELS.find((level) => level === value);
  if (named !== undefined) return named;
  return FALSY.has(value) ? 'info' : 'debug';
}

/** Builds a new pino logger (for servers: pass it to fastify as `loggerInstance`). */
export function createLogger(options: CreateLoggerOptions = {}): FusionLogger {
  const env = options.env ?? process.env;
  const file = options.file ?? (env.FUSION_LOGFILE || undefined);
  // Files are written synchronously: a line is in the file once the call returns (audit trail).
  const destination =
    options.stream ??
    (file === undefined ? pino.destination(1) : pino.destination({ dest: file, append: true, mkdir: true, sync: true }));
  return pino(
    {
      level: options.level ?? levelFromEnv(env),
      ...(options.name === undefined ? {} : { name: options.name }),
      ...(options.redact === undefined ? {} : { redact: options.redact }),
    },
    destination,
  );
}

let root: FusionLogger | undefined;
const children = new Map<string, FusionLogger>();

/** The root logger, created from the environment on first use. */
export function getRootLogger(): FusionLogger {
  root ??= createLogger();
  return root;
}

/**
 * Replaces the root logger (e.g. with the server's), or resets it with `undefined` so the
 * next use builds it again from the environment. Loggers handed out before keep the old root.
 */
export function setRootLogger(logger: FusionLogger | undefined): void {
  root = logger;
  children.clear();
}

/** The logger of module `name`: a child of the root logger with `{ module: name }`. */
export function getLogger(name: string): FusionLogger {
  let child = children.get(name);
  if (child === undefined) {
    child = getRootLogger().child({ module: name });
    children.set(name, child);
  }
  return child;
}

/** Resolves once the lines `logger` (default: the root) buffered are written. */
export function flushLogs(logger: FusionLogger = getRootLogger()): Promise<void> {
  return new Promise((resolve, reject) => {
    logger.flush((error) => (error ? reject(error) : resolve()));
  });
}
