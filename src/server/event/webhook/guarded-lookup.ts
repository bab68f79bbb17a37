/**
 * The SSRF guard at connection time: a `lookup` for undici's connector that resolves the host
 * and refuses it when any address is not allowed by the AddressPolicy. The socket connects to
 * the very addresses checked here, so a host that changes its DNS answer between a check and
 * the connection (DNS rebinding) gains nothing. IP-literal hosts skip `lookup` in node's net:
 * `checkLiteralHost` covers them before the request is sent.
 */
import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { FusionError } from '../../../helper/errors.js';
import type { AddressPolicy } from './address-policy.js';
import { normalizeHost } from './address-policy.js';

/** The lookup signature of `net.connect` options. */
export type LookupFunction = (
  hostname: string,
  options: LookupOptions,
  callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

/** The error of a refused destination (code FUSION_ERR_WEBHOOK_REFUSED). */
export function refusedError(host: string, why: string): FusionError {
  return new FusionError(
    'FUSION_ERR_WEBHOOK_REFUSED',
    `webhook destination ${host} refused: ${why}; list it in event.webhook_allow if this is intended`,
  );
}

/** A lookup that only ever hands the connector addresses the policy allows. */
export function guardedLookup(policy: AddressPolicy, resolve: typeof dnsLookup = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : (options.family ?? 0);
    resolve(hostname, { all: true, family, ...(options.hints === undefined ? {} : { hints: options.hints }) }, (error, addresses) => {
      if (error) {
        callback(error, '');
        return;
      }
      if (addresses.length === 0) {
        callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '');
        return;
      }
      if (!policy.allowsHost(hostname)) {
        for (const { address } of addresses) {
          const why = policy.refusal(address);
          if (why !== null) {
            callback(refusedError(hostname, `it resolves to a non-public address (${why})`) as unknown as NodeJS.ErrnoException, '');
            return;
          }
        }
      }
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** Throws FUSION_ERR_WEBHOOK_REFUSED when `hostname` is an IP literal the policy refuses. */
export function checkLiteralHost(policy: AddressPolicy, hostname: string): void {
  const host = normalizeHost(hostname);
  if (isIP(host) === 0 || policy.allowsHost(host)) return;
  const why = policy.refusal(host);
  if (why !== null) throw refusedError(host, why);
}
