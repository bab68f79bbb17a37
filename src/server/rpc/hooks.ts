/** The hooks a service sets around RPC connections and frames (`FusionRpcAPI({ hooks })`). */
import type { RpcConnectionInfo } from './define.js';

/** A frame as hooks see it (a parsed JSON-RPC object). */
export type RpcFrame = Record<string, unknown>;

/** Hooks around connections and frames (each optional). */
export interface RpcHooks {
  /** After the upgrade, before the first frame is read. */
  onConnect?(connection: RpcConnectionInfo): void | Promise<void>;
  /** After the socket closed (code and reason as received or sent). */
  onDisconnect?(connection: RpcConnectionInfo, code: number, reason: string): void | Promise<void>;
  /** Each parsed incoming frame: return it (or a replacement) to go on, null to drop it; a throw answers with that error. */
  afterReceive?(connection: RpcConnectionInfo, frame: RpcFrame): RpcFrame | null | Promise<RpcFrame | null>;
  /** Each outgoing frame: return it (or a replacement) to send, null to refuse it. Synchronous. */
  beforeSend?(connection: RpcConnectionInfo, frame: RpcFrame): RpcFrame | null;
}
