/**
 * The audit trail's own destination: audit lines are gathered in a small buffer and written in
 * one system call once it holds AUDIT_BUFFER_BYTES, at least every AUDIT_FLUSH_MS, and
 * synchronously when the process exits (process.exit, an uncaught exception, the end of the
 * event loop). The buffer is bounded: its writes are synchronous (BufferedDestination), so
 * nothing waits in a queue behind a slow disk. A process killed without an exit (SIGKILL, OOM
 * kill, abort) loses at most the buffer: under AUDIT_BUFFER_BYTES plus one line, written
 * within the last AUDIT_FLUSH_MS (see docs/performance.md).
 */
import { BufferedDestination } from './buffered-destination.js';
import { createLogger } from './logging.js';
import type { CreateLoggerOptions, FusionLogger } from './logging.js';

/** Bytes of audit lines held before one write (about a dozen lines). */
export const AUDIT_BUFFER_BYTES = 4096;
/** Longest time, in milliseconds, an audit line waits in the buffer. */
export const AUDIT_FLUSH_MS = 250;

/** Options of createAuditLog: where and at which level, as createLogger. */
export interface AuditLogOptions extends Pick<CreateLoggerOptions, 'level' | 'file' | 'name' | 'env'> {
  /** Bytes held before a write (default AUDIT_BUFFER_BYTES; 0 writes every line at once). */
  bufferBytes?: number;
  /** Longest wait of a buffered line, in milliseconds (default AUDIT_FLUSH_MS). */
  flushMs?: number;
}

/** A buffered audit logger: pass `logger` to setAuditSink; `close()` writes what is left. */
export interface AuditLog {
  /** The `audit` logger (module: 'audit') writing to the buffered destination. */
  readonly logger: FusionLogger;
  /** Writes the buffered lines now, synchronously. */
  flushSync(): void;
  /** Writes the buffered lines and releases the destination (closes the file; standard output stays open). */
  close(): void;
}

/** Creates the audit trail's buffered destination and logger; flushed on process exit until closed. */
export function createAuditLog(options: AuditLogOptions = {}): AuditLog {
  const env = options.env ?? process.env;
  const file = options.file ?? (env.FUSION_LOGFILE || undefined);
  const bufferBytes = options.bufferBytes ?? AUDIT_BUFFER_BYTES;
  const flushMs = options.flushMs ?? AUDIT_FLUSH_MS;
  const destination = new BufferedDestination({ dest: file ?? 1, bufferBytes, flushMs });
  const logger = createLogger({ ...options, stream: destination }).child({ module: 'audit' });
  let open = true;
  const flushSync = (): void => {
    if (open) destination.flushSync();
  };
  process.on('exit', flushSync);
  return {
    logger,
    flushSync,
    close() {
      if (!open) return;
      flushSync();
      open = false;
      process.off('exit', flushSync);
      destination.close();
    },
  };
}
