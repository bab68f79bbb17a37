/** Audit trail of user operations: one structured line per decision, through logger `audit`. */
import { getLogger } from './logging.js';

/** Who performed an operation (structural, so the concept Identity fits without an import). */
export interface TracedIdentity {
  readonly username: string;
  readonly groups?: readonly string[];
}

/** Where audit lines go: a pino logger, or anything with the same info/warn. */
export interface AuditSink {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** Options of `traceUserOp`. */
export interface TraceOptions {
  /** The decision: true when the operation is allowed. */
  granted: boolean;
  /** What the operation applies to (e.g. `{ caseGuid }`); logged as `context`. */
  context?: Record<string, unknown>;
  /** Thrown when refused: an Error, or a function making one (called only when refused). */
  error?: Error | (() => Error);
  /** Write to this sink instead of the audit sink for this one call. */
  logger?: AuditSink;
}

/** Fields of an audit line (besides pino's level, time and msg). */
export interface AuditFields {
  user: string | null;
  groups: string[];
  operation: string;
  granted: boolean;
  context: Record<string, unknown>;
}

let sink: AuditSink | undefined;

/** Sends audit lines to `target` (e.g. a dedicated file logger); `undefined` restores logger `audit`. */
export function setAuditSink(target: AuditSink | undefined): void {
  sink = target;
}

/**
 * Writes one audit line for `operation` by `identity` (null: anonymous): info when granted,
 * warn when refused. When refused and `options.error` is given, throws that error.
 */
export function traceUserOp(
  identity: TracedIdentity | null | undefined,
  operation: string,
  options: TraceOptions & { granted: false; error: Error | (() => Error) },
): never;
export function traceUserOp(identity: TracedIdentity | null | undefined, operation: string, options: TraceOptions): void;
export function traceUserOp(identity: TracedIdentity | null | undefined, operation: string, options: TraceOptions): void {
  const user = identity?.username ?? null;
  const fields: AuditFields = {
    user,
    groups: [...(identity?.groups ?? [])].sort(),
    operation,
    granted: options.granted,
    context: options.context ?? {},
  };
  const target = options.logger ?? sink ?? getLogger('audit');
  const who = user ?? 'anonymous';
  if (options.granted) {
    target.info(fields, `granted ${operation} to ${who}`);
    return;
  }
  target.warn(fields, `refused ${operation} to ${who}`);
  const { error } = options;
  if (error !== undefined) throw typeof error === 'function' ? error() : error;
}
