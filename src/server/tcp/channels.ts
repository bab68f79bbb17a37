/**
 * TCP connections as channel members. The channels are the RPC API's (src/server/rpc/channels.ts):
 * a joined connection gets a member row beside RPC members (so presence lists its identity and
 * `rpc.broadcast` on any instance reaches it) and a place in this instance's room, from which
 * each message is encoded to a frame (`encodeChannelMessage`, JSON text by default) and sent
 * through the before-send hooks and the framing. Membership ends with the connection: the room
 * forgets it, and its member rows are deleted with its registry row.
 */
import { FusionError } from '../../helper/errors.js';
import type { TcpFrame } from '../../helper/framing.js';
import type { FusionLogger } from '../../helper/logging.js';
import type { ChannelHub, ChannelSubscriber, JoinResult } from '../rpc/channels.js';
import type { FusionTcpConnection } from './connection.js';

/** A channel message as `encodeChannelMessage` receives it. */
export interface TcpChannelMessage {
  readonly channel: string;
  /** The message id (increasing per channel, as RPC members see it). */
  readonly id: number;
  /** What was broadcast (JSON data). */
  readonly data: unknown;
}

/** Turns a channel message into the frame a TCP member gets; null skips that member. */
export type TcpChannelEncoder = (message: TcpChannelMessage, connection: FusionTcpConnection) => TcpFrame | null;

/** What `gateway.join` resolves with: the channel's members (usernames, every instance) and the id the connection stands at. */
export type TcpJoinResult = JoinResult;

/** The channels TCP connections join: the RPC API's hub. */
export type TcpChannelHub = Pick<ChannelHub, 'join' | 'leave' | 'forget'>;

/** The default encoder: `{"channel":...,"id":...,"data":...}` as JSON text (one line with line framing). */
export const encodeChannelMessageAsJson: TcpChannelEncoder = (message) => JSON.stringify({ channel: message.channel, id: message.id, data: message.data });

/** `case/<guid>` channels carry case events to RPC members only. */
const CASE_CHANNEL = /^case\//;

/** A TCP connection as the hub sees it. */
class TcpChannelMember implements ChannelSubscriber {
  readonly channels = new Set<string>();
  readonly #connection: FusionTcpConnection;
  readonly #encoder: () => TcpChannelEncoder;

  constructor(connection: FusionTcpConnection, encoder: () => TcpChannelEncoder) {
    this.#connection = connection;
    this.#encoder = encoder;
  }

  get connectionId(): string {
    return this.#connection.id;
  }

  message(channel: string, id: number, data: unknown): void {
    const frame = this.#encoder()({ channel, id, data }, this.#connection);
    if (frame !== null) this.#connection.send(frame);
  }

  reset(): void {
    // Never called: TCP members join without `since`, so there is nothing to replay or reset.
  }
}

/** The channel memberships of a gateway's connections (see the file comment). */
export class TcpChannels {
  readonly #members = new Map<string, TcpChannelMember>();
  readonly #logger: () => FusionLogger;
  #hub: (() => TcpChannelHub | null) | null = null;
  #encoder: TcpChannelEncoder = encodeChannelMessageAsJson;

  constructor(logger: () => FusionLogger) {
    this.#logger = logger;
  }

  /** Sets where the hub comes from (looked up at each join: the RPC API may start after the gateway). */
  attach(hub: (() => TcpChannelHub | null) | null): void {
    this.#hub = hub;
  }

  /** Sets the encoder of channel messages. */
  encodeWith(encoder: TcpChannelEncoder): void {
    this.#encoder = encoder;
  }

  /** The channels `connection` is in (this instance's view). */
  of(connection: FusionTcpConnection): string[] {
    return [...(this.#members.get(connection.id)?.channels ?? [])];
  }

  /**
   * Adds `connection` to `channel` once `registered` (its registry row written) resolves; live
   * messages follow (no replay). Rejects with FUSION_ERR_UNAVAILABLE without channels (no RPC
   * API started, or no registry), FUSION_ERR_NOT_FOUND when the connection closed.
   */
  async join(connection: FusionTcpConnection, channel: string, registered: Promise<void> | null): Promise<TcpJoinResult> {
    if (typeof channel !== 'string' || channel === '') throw new TypeError('join expects a channel name (non-empty string)');
    if (CASE_CHANNEL.test(channel)) throw new TypeError(`join: ${JSON.stringify(channel.slice(0, 100))}: case channels carry case events to RPC connections only`);
    const hub = this.#hub?.() ?? null;
    if (hub === null || registered === null) {
      throw new FusionError('FUSION_ERR_UNAVAILABLE', 'tcp channels need the rpc API (section `rpc`) started and the connection registry (FusionTcpAPI on a server with storage)');
    }
    if (connection.closed) throw closedError(connection);
    await registered;
    let member = this.#members.get(connection.id);
    if (member === undefined) {
      member = new TcpChannelMember(connection, () => this.#encoder);
      this.#members.set(connection.id, member);
    }
    let result: JoinResult;
    try {
      result = await hub.join(channel, member, connection.identity, null);
    } catch (error) {
      if (connection.closed) throw closedError(connection);
      throw error;
    }
    member.channels.add(channel);
    if (connection.closed) {
      // closed while joining: forget() may have run before the room had the member
      if (this.#members.get(connection.id) === member) this.#members.delete(connection.id);
      hub.forget(member);
      throw closedError(connection);
    }
    this.#logger().debug({ connection: connection.id, channel }, 'tcp connection joined a channel');
    return result;
  }

  /** Removes `connection` from `channel`; false when it was not a member. */
  async leave(connection: FusionTcpConnection, channel: string): Promise<boolean> {
    const member = this.#members.get(connection.id);
    if (member === undefined || !member.channels.delete(channel)) return false;
    const hub = this.#hub?.() ?? null;
    if (hub === null) return true;
    await hub.leave(channel, member);
    return true;
  }

  /** Drops a closed connection from every room of this instance (its member rows go with its registry row). */
  forget(connection: FusionTcpConnection): void {
    // The one place a member leaves the map (not leave: a join in flight on another channel would be orphaned).
    const member = this.#members.get(connection.id);
    if (member === undefined) return;
    this.#members.delete(connection.id);
    this.#hub?.()?.forget(member);
  }
}

function closedError(connection: FusionTcpConnection): FusionError {
  return new FusionError('FUSION_ERR_NOT_FOUND', `tcp connection ${connection.id} is closed`);
}
