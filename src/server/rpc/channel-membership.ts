/**
 * Joining and leaving channels for RPC connections: `case/<guid>` channels go to the case
 * channels (authorized like the SSE route), the others to the hub after the service's rules.
 */
import type { Identity } from '../../concept/index.js';
import type { FusionLogger } from '../../helper/logging.js';
import type { FusionHost } from '../host.js';
import { CASE_CHANNEL, authorizeCaseChannel } from './case-channel.js';
import type { CaseChannels } from './case-channel.js';
import type { ChannelRules } from './channel-rules.js';
import type { ChannelHub, JoinResult } from './channels.js';
import type { RpcConnection } from './connection.js';

/** What ChannelMembership works with (the started API's parts). */
export interface ChannelMembershipOptions {
  host: FusionHost;
  hub: ChannelHub;
  /** The case channels once started (null without an event notifier: no case channels). */
  cases(): CaseChannels | null;
  rules: ChannelRules;
  logger: FusionLogger;
  /** Authorizes `operation` with the connection's credentials. */
  authorize(connection: RpcConnection, operation: string, context: Record<string, unknown>): Promise<Identity>;
}

/** The channel memberships of one instance's RPC connections. */
export class ChannelMembership {
  readonly #options: ChannelMembershipOptions;

  constructor(options: ChannelMembershipOptions) {
    this.#options = options;
  }

  /** Joins a channel after its authorization hook. */
  async join(connection: RpcConnection, channel: string, since: number | null): Promise<JoinResult> {
    const { hub } = this.#options;
    const identity = await this.authorize(connection, channel);
    if (this.#isCaseChannel(channel)) {
      await hub.addMember(channel, connection.id, connection.identity.username);
      const { last_id } = await this.#options.cases()!.join(channel, connection, since, identity, () => this.#revoked(connection, channel));
      connection.channels.add(channel);
      return { members: await hub.presence(channel), last_id };
    }
    const result = await hub.join(channel, connection, connection.identity.username, since);
    connection.channels.add(channel);
    return result;
  }

  /** Leaves a channel. */
  async leave(connection: RpcConnection, channel: string): Promise<boolean> {
    const { hub } = this.#options;
    connection.channels.delete(channel);
    if (this.#isCaseChannel(channel)) {
      const was = this.#options.cases()!.leave(channel, connection);
      await hub.removeMember(channel, connection.id);
      return was;
    }
    return hub.leave(channel, connection);
  }

  /** Usernames in `channel` on every instance, for a connection that may join it. */
  async presence(connection: RpcConnection, channel: string): Promise<string[]> {
    await this.authorize(connection, channel);
    return this.#options.hub.presence(channel);
  }

  /** Drops a closed connection from every channel of this instance. */
  forget(connection: RpcConnection): void {
    this.#options.hub.forget(connection);
    this.#options.cases()?.forget(connection);
  }

  /** Throws unless `connection` may join `channel`; returns the identity it joins as. */
  authorize(connection: RpcConnection, channel: string): Promise<Identity> {
    const { host, rules, logger } = this.#options;
    if (this.#isCaseChannel(channel)) {
      return authorizeCaseChannel(host, (operation, context) => this.#options.authorize(connection, operation, context), channel);
    }
    return rules.authorize(connection, channel, logger);
  }

  #isCaseChannel(channel: string): boolean {
    return this.#options.cases() !== null && CASE_CHANNEL.test(channel);
  }

  /** The member lost access to the case of `channel` (its ACS changed): out of the channel, and told so. */
  #revoked(connection: RpcConnection, channel: string): void {
    connection.channels.delete(channel);
    connection.left(channel, 'forbidden');
    this.#options.hub.removeMember(channel, connection.id).catch((error: unknown) => this.#options.logger.warn({ err: error, channel }, 'rpc: removing a member row failed (it goes with its connection)'));
  }
}
