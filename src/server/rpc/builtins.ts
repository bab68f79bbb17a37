/**
 * Built-in methods: `rpc.join`, `rpc.leave`, `rpc.presence`, and the HTTP twins `info.get`,
 * `case.enumerate|retrieve|create|update|delete`. The twins are answered by their HTTP routes
 * (fastify inject with the connection's credential headers), so authorization, ACS checks,
 * the case API's steps and hooks and its events are exactly those of HTTP, with no copy.
 */
import type { FusionHost } from '../host.js';
import { FusionCaseAPI } from '../case/impl.js';
import type { RpcConnection } from './connection.js';
import type { RpcCall } from './define.js';
import type { RegisteredMethod } from './methods.js';
import { RpcError, envelopeToRpcError, protocolError } from './protocol.js';
import { enumerateParams } from './enumerate-params.js';
import type { EnumerateParams } from './enumerate-params.js';
import { credentialHeaders } from './tickets.js';

/** Where built-ins are added (FusionRpcAPI). */
export interface BuiltinTarget {
  addBuiltin(method: RegisteredMethod): void;
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function objectParams(params: unknown): Record<string, unknown> {
  if (typeof params !== 'object' || params === null || Array.isArray(params)) throw protocolError.params('params: expected an object');
  return params as Record<string, unknown>;
}

function guidParam(params: unknown): string {
  const guid = objectParams(params).guid;
  if (typeof guid !== 'string' || !GUID.test(guid)) throw protocolError.params('params.guid: expected a UUID such as 0f6c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d');
  return guid.toLowerCase();
}

function builtin(name: string, validate: (params: unknown) => unknown, handler: (call: RpcCall<never>) => unknown): RegisteredMethod {
  return { name, clientTypes: undefined, operation: undefined, timeout: undefined, validate, handler: handler as RegisteredMethod['handler'] };
}

/** The JSON text of a twin's body; a value nested too deeply for JSON.stringify (it overflows the stack) is the caller's error. */
function bodyText(body: unknown): string {
  try {
    return JSON.stringify(body);
  } catch (error) {
    if (error instanceof RangeError) throw protocolError.params('nested too deeply');
    throw error;
  }
}

/** Runs an HTTP route in-process with the connection's credentials; its envelope's data, or its error as an RpcError. */
async function twin(host: FusionHost, connection: RpcConnection, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown): Promise<unknown> {
  return (await twinEnvelope(host, connection, method, url, body)).data ?? null;
}

/** A twin's whole success envelope (`data`, and `next` on a page). */
async function twinEnvelope(
  host: FusionHost,
  connection: RpcConnection,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  body?: unknown,
): Promise<{ data?: unknown; next?: unknown }> {
  const response = await host.fastify.inject({
    method,
    url,
    headers: { ...credentialHeaders(connection.request), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: bodyText(body) }),
  });
  let envelope: { data?: unknown; next?: unknown; message?: string; code?: string } = {};
  try {
    envelope = JSON.parse(response.body) as typeof envelope;
  } catch {
    envelope = {};
  }
  if (response.statusCode >= 400) {
    const error = envelopeToRpcError(response.statusCode, envelope.code, envelope.message);
    throw new RpcError(error.code, (error.data?.code ?? 'FUSION_ERR_INTERNAL') as ConstructorParameters<typeof RpcError>[1], error.message);
  }
  return envelope;
}

/** `case.enumerate`: the whole list (params absent or `{}`), or one page (`{limit, cursor?}`) as `{items, next}`. */
async function enumerateCases(host: FusionHost, connection: RpcConnection, page: EnumerateParams): Promise<unknown> {
  if (page === null) return twin(host, connection, 'GET', '/api/cases');
  const query = new URLSearchParams({ limit: String(page.limit), ...(page.cursor === undefined ? {} : { cursor: page.cursor }) });
  const envelope = await twinEnvelope(host, connection, 'GET', `/api/cases?${query.toString()}`);
  return { items: envelope.data ?? [], next: typeof envelope.next === 'string' ? envelope.next : null };
}

/** Adds the built-ins `host` supports (channel methods always; info and case when those APIs are mounted). */
export function registerBuiltinMethods(target: BuiltinTarget, host: FusionHost): void {
  const channel = (name: 'rpc.join' | 'rpc.leave' | 'rpc.presence'): RegisteredMethod =>
    builtin(name, (params) => params, ({ connection, params }) => (connection as RpcConnection).channelRequest(name, params));
  target.addBuiltin(channel('rpc.join'));
  target.addBuiltin(channel('rpc.leave'));
  target.addBuiltin(channel('rpc.presence'));
  const conn = (call: RpcCall<never>): RpcConnection => call.connection as RpcConnection;
  if (host.apis.some((api) => api.name === 'info')) {
    target.addBuiltin(builtin('info.get', (params) => params, (call) => twin(host, conn(call), 'GET', '/api/info')));
  }
  if (host.findApi(FusionCaseAPI) === undefined) return;
  target.addBuiltin(builtin('case.enumerate', enumerateParams, (call) => enumerateCases(host, conn(call), call.params as EnumerateParams)));
  target.addBuiltin(builtin('case.retrieve', guidParam, (call) => twin(host, conn(call), 'GET', `/api/case/${call.params as string}`)));
  target.addBuiltin(
    builtin('case.create', (params) => {
      const value = objectParams(params).case;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw protocolError.params('params.case: expected a case object');
      return value;
    }, (call) => twin(host, conn(call), 'POST', '/api/case', call.params)),
  );
  target.addBuiltin(
    builtin('case.update', (params) => {
      const guid = guidParam(params);
      const patch = objectParams(params).patch;
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw protocolError.params('params.patch: expected an object of the fields to change');
      return { guid, patch };
    }, (call) => {
      const { guid, patch } = call.params as { guid: string; patch: unknown };
      return twin(host, conn(call), 'PUT', `/api/case/${guid}`, patch);
    }),
  );
  target.addBuiltin(builtin('case.delete', guidParam, async (call) => {
    await twin(host, conn(call), 'DELETE', `/api/case/${call.params as string}`);
    return { deleted: true };
  }));
}
