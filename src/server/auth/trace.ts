/** One audit line per auth decision, through traceUserOp, with the client address and request id. */
import type { FastifyRequest } from 'fastify';
import type { Identity } from '../../concept/index.js';
import { traceUserOp } from '../../helper/tracing.js';

/** Traces a granted or refused `operation` for `identity` (null: not authenticated). */
export function traceDecision(
  request: FastifyRequest,
  identity: Identity | null,
  operation: string,
  context: Record<string, unknown>,
  granted: boolean,
  reason?: string,
): void {
  const traced: Record<string, unknown> = { ...context, client: request.ip, request_id: request.id };
  if (reason !== undefined) traced.reason = reason;
  traceUserOp(identity, operation, { granted, context: traced });
}
