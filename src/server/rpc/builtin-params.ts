/** The params of the requests a connection answers itself: `rpc.hello` and `rpc.join` / `rpc.leave` / `rpc.presence`. */
import type { RpcCodecName } from './define.js';
import { RPC_PROTOCOL, protocolError } from './protocol.js';
import type { RpcError } from './protocol.js';

/** `rpc.hello` params as read: what to set, an error to answer with, or a reason to close (a foreign protocol). */
export type HelloParams = { clientType: string | undefined; codec: RpcCodecName | undefined } | { error: RpcError } | { close: string };

/** Reads `rpc.hello` params (protocol, client_type, codec). */
export function readHelloParams(params: unknown): HelloParams {
  const p = (params ?? {}) as Record<string, unknown>;
  if (p.protocol !== undefined && p.protocol !== RPC_PROTOCOL) {
    return { close: `unsupported protocol ${JSON.stringify(p.protocol)}: this server speaks ${RPC_PROTOCOL}` };
  }
  if (p.client_type !== undefined && (typeof p.client_type !== 'string' || p.client_type.length === 0 || p.client_type.length > 100)) {
    return { error: protocolError.params('client_type: expected a string of 1 to 100 characters') };
  }
  if (p.codec !== undefined && p.codec !== 'json' && p.codec !== 'superjson') {
    return { error: protocolError.params(`codec: expected "json" or "superjson", got ${JSON.stringify(p.codec)}`) };
  }
  return { clientType: p.client_type as string | undefined, codec: p.codec as RpcCodecName | undefined };
}

/** Reads the params of a channel request (`since` only for `rpc.join`); throws -32602 naming the field. */
export function readChannelParams(method: 'rpc.join' | 'rpc.leave' | 'rpc.presence', params: unknown): { channel: string; since: number | null } {
  const p = (params ?? {}) as Record<string, unknown>;
  if (typeof p.channel !== 'string' || p.channel.length === 0 || p.channel.length > 200) throw protocolError.params('channel: expected a string of 1 to 200 characters');
  if (method !== 'rpc.join') return { channel: p.channel, since: null };
  const since = p.since;
  if (since !== undefined && since !== null && !(typeof since === 'number' && Number.isSafeInteger(since) && since >= 0)) {
    throw protocolError.params('since: expected a message id (an integer >= 0)');
  }
  return { channel: p.channel, since: typeof since === 'number' ? since : null };
}
