/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): secrets are `whsec_` +
 * base64 of random bytes; a signature is `v1,` + base64(HMAC-SHA256(key, `id.timestamp.body`));
 * several secrets (rotation) give several signatures, space-separated in one header.
 */
import { createHmac } from 'node:crypto';

/** Prefix of a Standard Webhooks secret. */
export const SECRET_PREFIX = 'whsec_';

/** Fewest key bytes a secret must hold (the standard's recommended minimum). */
export const MIN_SECRET_BYTES = 24;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Why `secret` is not a usable `whsec_` secret, or null when it is. */
export function secretProblem(secret: string): string | null {
  if (!secret.startsWith(SECRET_PREFIX)) return `expected a Standard Webhooks secret starting with ${SECRET_PREFIX}`;
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!BASE64.test(encoded)) return `expected base64 after ${SECRET_PREFIX}`;
  if (Buffer.from(encoded, 'base64').length < MIN_SECRET_BYTES) {
    return `the key must hold at least ${MIN_SECRET_BYTES} bytes (make one with: echo whsec_$(openssl rand -base64 32))`;
  }
  return null;
}

/** The key bytes of a `whsec_` secret (checked by secretProblem first). */
export function secretKey(secret: string): Buffer {
  const problem = secretProblem(secret);
  if (problem !== null) throw new TypeError(`webhook secret: ${problem}`);
  return Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
}

/** The raw HMAC-SHA256 of `id.timestamp.body` under `key` (what a `v1,` signature encodes). */
export function webhookDigest(key: Uint8Array, id: string, timestamp: number | string, body: string | Uint8Array): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

/** The `webhook-signature` header value: one `v1,<base64>` per key, space-separated. */
export function signWebhook(keys: readonly Uint8Array[], id: string, timestamp: number, body: string | Uint8Array): string {
  return keys.map((key) => `v1,${webhookDigest(key, id, timestamp, body).toString('base64')}`).join(' ');
}
