/**
 * Argon2 password digests, in the PHC string format that Python's argon2-cffi (and so
 * edf_fusion configs) use: `$argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>`.
 */
import { randomBytes } from 'node:crypto';
import { hash, parseOptions, verify } from '@node-rs/argon2';

/** argon2-cffi's PasswordHasher defaults (RFC 9106 "low memory"): what `hashPassword` uses. */
export const DIGEST_PARAMETERS = { memoryCost: 65536, timeCost: 3, parallelism: 4, outputLen: 32 } as const;

/** Longest password accepted, in characters (argon2 cost does not grow with it; bodies do). */
export const MAX_PASSWORD_LENGTH = 1024;

/** Cost parameters read from a digest. */
export interface DigestParameters {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
  outputLen: number;
}

/** Hashes `password` into an argon2id digest for `auth.backend.basic.users[].digest`. */
export async function hashPassword(password: string): Promise<string> {
  if (typeof password !== 'string' || password.length === 0) {
    throw new TypeError('hashPassword: password must be a non-empty string');
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new TypeError(`hashPassword: password must be at most ${MAX_PASSWORD_LENGTH} characters`);
  }
  return hash(password, { ...DIGEST_PARAMETERS });
}

/** Returns the cost parameters of an argon2 digest, or null when `digest` is not one. */
export function digestParameters(digest: string): DigestParameters | null {
  if (typeof digest !== 'string' || !digest.startsWith('$argon2')) return null;
  try {
    const parsed = parseOptions(digest);
    const { memoryCost, timeCost, parallelism, outputLen } = parsed;
    return { memoryCost, timeCost, parallelism, outputLen };
  } catch {
    return null;
  }
}

/** Builds a digest of a random secret with the given costs: verifying it takes as long as a real one. */
export async function dummyDigest(parameters: DigestParameters = DIGEST_PARAMETERS): Promise<string> {
  return hash(randomBytes(24).toString('base64url'), { ...parameters });
}

/** Checks `password` against `digest`; false (never a throw) on a mismatch or a malformed digest. */
export async function verifyPassword(digest: string, password: string): Promise<boolean> {
  try {
    return await verify(digest, password);
  } catch {
    return false;
  }
}
