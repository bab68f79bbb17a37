/**
 * Encryption at rest of the OIDC tokens a session row keeps: AES-256-GCM with a random 96-bit
 * IV, bound (as associated data) to what it protects. Several keys may be configured: the
 * first seals, every one opens, so a key is rotated by putting the new one first and removing
 * the old one once the sessions it sealed have ended or been rewritten. A sealed value names
 * its key by a short hash, so opening needs no trial.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A 32-byte key from its base64 or base64url text (what `openssl rand -base64 32` prints); null when it is not one. */
export function parseTokenKey(text: string): Buffer | null {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) return null;
  const key = Buffer.from(trimmed.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url');
  return key.length === KEY_BYTES ? key : null;
}

let ephemeral: Buffer | null = null;

/** A random key for this process, for tests that configure none (sessions do not survive a restart). */
export function ephemeralTokenKey(): Buffer {
  ephemeral ??= randomBytes(KEY_BYTES);
  return ephemeral;
}

/** Seals and opens strings with the configured keys (see the module comment). */
export class TokenCipher {
  readonly #keys: readonly { id: string; key: Buffer }[];

  constructor(keys: readonly Buffer[]) {
    if (keys.length === 0) throw new RangeError('TokenCipher: at least one key is needed');
    this.#keys = keys.map((key) => {
      if (key.length !== KEY_BYTES) throw new RangeError(`TokenCipher: keys must be ${KEY_BYTES} bytes`);
      return { id: createHash('sha256').update(key).digest('base64url').slice(0, 8), key };
    });
  }

  /** `plain` sealed with the first key, bound to `context`: `v1.<key id>.<iv>.<ciphertext>.<tag>`. */
  seal(plain: string, context: string): string {
    const { id, key } = this.#keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [VERSION, id, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** The plain text of `sealed` under `context`; null when no configured key opens it or it was altered. */
  open(sealed: string, context: string): string | null {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION) return null;
    const [, id, iv, body, tag] = parts as [string, string, string, string, string];
    const entry = this.#keys.find((k) => k.id === id);
    if (entry === undefined) return null;
    const ivBytes = Buffer.from(iv, 'base64url');
    const tagBytes = Buffer.from(tag, 'base64url');
    if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', entry.key, ivBytes, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(tagBytes);
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }

  /** True when `sealed` was sealed with a key other than the first (to rewrite after a rotation). */
  isStale(sealed: string): boolean {
    return sealed.split('.')[1] !== this.#keys[0]!.id;
  }
}
