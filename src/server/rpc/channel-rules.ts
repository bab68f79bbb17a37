/** The channels a service declares (`rpc.channel(pattern, {authorize})`) and the check that a connection may join one. */
import type { Identity } from '../../concept/index.js';
import { FusionError, isFusionError } from '../../helper/errors.js';
import type { FusionLogger } from '../../helper/logging.js';
import type { RpcConnectionInfo } from './define.js';

/** Who may join channels matching a pattern. */
export interface RpcChannelOptions {
  /** Return true to let `identity` join `channel` (default: any authenticated connection). */
  authorize?(context: { identity: Identity; connection: RpcConnectionInfo; channel: string }): boolean | Promise<boolean>;
}

interface ChannelRule {
  pattern: RegExp;
  options: RpcChannelOptions;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^]*');
  return new RegExp(`^${escaped}$`);
}

/** The declared channel patterns, first match wins. */
export class ChannelRules {
  readonly #rules: ChannelRule[] = [];

  /** Declares channels matching `pattern` (`*` matches any text, or a RegExp). */
  add(pattern: string | RegExp, options: RpcChannelOptions): void {
    this.#rules.push({ pattern: typeof pattern === 'string' ? globToRegExp(pattern) : pattern, options });
  }

  /** Throws unless a rule matches `channel` and its `authorize` agrees (a throwing hook refuses); returns the identity it joins as. */
  async authorize(connection: RpcConnectionInfo, channel: string, logger: FusionLogger): Promise<Identity> {
    const rule = this.#rules.find((candidate) => candidate.pattern.test(channel));
    if (rule === undefined) throw new FusionError('FUSION_ERR_FORBIDDEN', `channel ${JSON.stringify(channel.slice(0, 100))} is not declared by the service`);
    let allowed: boolean;
    try {
      allowed = rule.options.authorize === undefined ? true : (await rule.options.authorize({ identity: connection.identity, connection, channel })) === true;
    } catch (error) {
      if (isFusionError(error)) throw error;
      logger.error({ err: error, channel }, 'rpc: a channel authorize hook threw; refusing');
      allowed = false;
    }
    if (!allowed) throw new FusionError('FUSION_ERR_FORBIDDEN', `you may not join channel ${JSON.stringify(channel.slice(0, 100))}`);
    return connection.identity;
  }
}
