import { describe, expect, it } from '@jest/globals';
import { digestParameters, dummyDigest, hashPassword, verifyPassword } from '../../../../src/server/auth/backend/password.js';

/** A digest made by edf_fusion (argon2-cffi); its password is unknown. */
const EDF_DIGEST = '$argon2id$v=19$m=65536,t=3,p=4$20W54XzvJwLt5nS5XzE5Iw$1LX+eQRy+QtlmdMb62xrvu72dDZ0JaG6QnCqLsFGZ1Y';
/** argon2-cffi's PHC layout: type, version, m,t,p, unpadded base64 salt (16 bytes) and hash (32 bytes). */
const PYTHON_STYLE = /^\$argon2id\$v=19\$m=65536,t=3,p=4\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/;

describe('hashPassword', () => {
  it('makes an argon2id digest in argon2-cffi format that verifies', async () => {
    const digest = await hashPassword('correct horse');
    expect(digest).toMatch(PYTHON_STYLE);
    expect(EDF_DIGEST).toMatch(PYTHON_STYLE);
    expect(await verifyPassword(digest, 'correct horse')).toBe(true);
    expect(await verifyPassword(digest, 'correct horsE')).toBe(false);
  });

  it('salts: the same password gives different digests', async () => {
    expect(await hashPassword('same')).not.toBe(await hashPassword('same'));
  });

  it('refuses empty and huge passwords', async () => {
    await expect(hashPassword('')).rejects.toThrow(TypeError);
    await expect(hashPassword('x'.repeat(1025))).rejects.toThrow(TypeError);
  });
});

describe('digestParameters / verifyPassword', () => {
  it('reads the costs of an edf_fusion digest', () => {
    expect(digestParameters(EDF_DIGEST)).toEqual({ memoryCost: 65536, timeCost: 3, parallelism: 4, outputLen: 32 });
  });

  it('returns null for what is not an argon2 digest', () => {
    expect(digestParameters('plain')).toBeNull();
    expect(digestParameters('$argon2id$garbage')).toBeNull();
    expect(digestParameters('$2b$12$abcdefghijklmnopqrstuu')).toBeNull();
  });

  it('verifies false, without throwing, against an edf_fusion digest or a malformed one', async () => {
    expect(await verifyPassword(EDF_DIGEST, 'not the password')).toBe(false);
    expect(await verifyPassword('$argon2id$garbage', 'x')).toBe(false);
  });

  it('builds dummy digests with the requested costs', async () => {
    const digest = await dummyDigest({ memoryCost: 1024, timeCost: 1, parallelism: 1, outputLen: 32 });
    expect(digestParameters(digest)).toEqual({ memoryCost: 1024, timeCost: 1, parallelism: 1, outputLen: 32 });
  });
});
