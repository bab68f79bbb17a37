import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { Identity } from '../../../src/concept/index.js';
import { hashToken } from '../../../src/server/storage/session-rows.js';
import { describeStorage } from '../../helpers/storage.js';

const token = (): string => randomBytes(24).toString('base64url');
const inMinutes = (minutes: number): Date => new Date(Date.now() + minutes * 60_000);

describe('hashToken', () => {
  it('is the lowercase sha256 hex of the token', () => {
    expect(hashToken('secret')).toBe(createHash('sha256').update('secret').digest('hex'));
    expect(hashToken('secret')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses an empty token', () => {
    expect(() => hashToken('')).toThrow(expect.objectContaining({ code: 'FUSION_ERR_BAD_REQUEST' }));
  });
});

describeStorage('storage: sessions and identities', (getStorage) => {
  describe('sessions', () => {
    it('stores a session and returns it for its token', async () => {
      const storage = getStorage();
      const t = token();
      const identity = new Identity({ username: 'jdoe', groups: ['analysts', 'soc'] });
      const expiresAt = inMinutes(30);
      await storage.createSession({ token: t, identity, data: { backend: 'basic', n: 1 }, expiresAt });
      const session = await storage.retrieveSession(t);
      expect(session).not.toBeNull();
      expect(session!.identity).toBeInstanceOf(Identity);
      expect(session!.identity.toJSON()).toEqual(identity.toJSON());
      expect(session!.data).toEqual({ backend: 'basic', n: 1 });
      expect(session!.expiresAt.getTime()).toBe(expiresAt.getTime());
      expect(await storage.retrieveSession(token())).toBeNull();
    });

    it('keeps only the hash of the token', async () => {
      const storage = getStorage();
      const t = token();
      await storage.createSession({ token: t, identity: new Identity({ username: 'hashme' }), expiresAt: inMinutes(5) });
      const rows = await storage.knex('fusion_session').where({ username: 'hashme' });
      expect(rows).toHaveLength(1);
      expect(rows[0].token_hash).toBe(hashToken(t));
      const dump = JSON.stringify(await storage.knex.raw('SELECT * FROM fusion_session'));
      expect(dump).not.toContain(t);
    });

    it('hides expired sessions and prunes them', async () => {
      const storage = getStorage();
      const expired = token();
      const live = token();
      const identity = new Identity({ username: 'expiry' });
      await storage.createSession({ token: expired, identity, expiresAt: new Date(Date.now() - 1000) });
      await storage.createSession({ token: live, identity, expiresAt: inMinutes(10) });
      expect(await storage.retrieveSession(expired)).toBeNull();
      expect(await storage.retrieveSession(live)).not.toBeNull();
      expect(await storage.pruneSessions()).toBeGreaterThanOrEqual(1);
      expect(await storage.knex('fusion_session').where({ token_hash: hashToken(expired) })).toHaveLength(0);
      expect(await storage.retrieveSession(live)).not.toBeNull();
      expect(await storage.pruneSessions()).toBe(0);
    });

    it('updates data, expiry and identity', async () => {
      const storage = getStorage();
      const t = token();
      await storage.createSession({ token: t, identity: new Identity({ username: 'before' }), data: { a: 1 }, expiresAt: inMinutes(1) });
      const later = inMinutes(60);
      await storage.updateSession(t, { expiresAt: later });
      let session = await storage.retrieveSession(t);
      expect(session!.expiresAt.getTime()).toBe(later.getTime());
      expect(session!.data).toEqual({ a: 1 });
      await storage.updateSession(t, { data: { b: [2] }, identity: new Identity({ username: 'after', groups: ['g'] }) });
      session = await storage.retrieveSession(t);
      expect(session!.data).toEqual({ b: [2] });
      expect(session!.identity.toJSON()).toEqual({ username: 'after', groups: ['g'] });
      const row = await storage.knex('fusion_session').where({ token_hash: hashToken(t) }).first();
      expect(row.username).toBe('after');
      await storage.updateSession(t, { expiresAt: new Date(Date.now() - 1) });
      expect(await storage.retrieveSession(t)).toBeNull();
    });

    it('ignores updates and deletes of unknown tokens', async () => {
      const storage = getStorage();
      await expect(storage.updateSession(token(), { data: { x: 1 } })).resolves.toBeUndefined();
      await expect(storage.deleteSession(token())).resolves.toBeUndefined();
    });

    it('deletes a session', async () => {
      const storage = getStorage();
      const t = token();
      await storage.createSession({ token: t, identity: new Identity({ username: 'bye' }), expiresAt: inMinutes(5) });
      await storage.deleteSession(t);
      expect(await storage.retrieveSession(t)).toBeNull();
    });

    it('refuses bad session input', async () => {
      const storage = getStorage();
      const identity = new Identity({ username: 'bad' });
      await expect(storage.createSession({ token: '', identity, expiresAt: inMinutes(1) })).rejects.toMatchObject({ code: 'FUSION_ERR_BAD_REQUEST' });
      await expect(storage.createSession({ token: token(), identity, expiresAt: new Date(Number.NaN) })).rejects.toMatchObject({
        code: 'FUSION_ERR_BAD_REQUEST',
      });
    });
  });

  describe('identities', () => {
    it('inserts, replaces and lists identities by username', async () => {
      const storage = getStorage();
      await storage.storeIdentity(new Identity({ username: 'zoe', groups: ['b'] }));
      await storage.storeIdentity(new Identity({ username: 'adam', groups: ['a'] }));
      await storage.storeIdentity(new Identity({ username: 'zoe', groups: ['c', 'a'] }));
      const identities = await storage.enumerateIdentities();
      const mine = identities.filter((i) => ['adam', 'zoe'].includes(i.username));
      expect(mine.map((i) => i.toJSON())).toEqual([
        { username: 'adam', groups: ['a'] },
        { username: 'zoe', groups: ['a', 'c'] },
      ]);
      expect(identities.every((i) => i instanceof Identity)).toBe(true);
    });
  });
});
