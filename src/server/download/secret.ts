/** Download secrets (link tokens, resume tokens): made random, stored hashed, compared in constant time. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Form of a token in a download URL or header: base64url, 1 to 256 characters. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,256}$/;

/** A new random secret: 16 bytes, base64url (22 characters). */
export function newSecret(): string {
  return randomBytes(16).toString('base64url');
}

/** The stored form of a secret: sha256, lowercase hex (64 characters). The secret itself is never stored. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * True when sha256(`secret`) equals `storedHash`. The two 32-byte digests are compared with
 * crypto.timingSafeEqual, so the time taken does not depend on where they differ; a stored
 * hash of the wrong form compares false.
 */
export function secretMatches(secret: string, storedHash: string | null | undefined): boolean {
  if (typeof secret !== 'string' || typeof storedHash !== 'string' || !/^[0-9a-f]{64}$/.test(storedHash)) return false;
  const candidate = createHash('sha256').update(secret, 'utf8').digest();
  return timingSafeEqual(candidate, Buffer.from(storedHash, 'hex'));
}
