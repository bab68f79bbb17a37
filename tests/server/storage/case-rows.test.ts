import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { Case, Identity, field } from '../../../src/concept/index.js';
import { clearStorage, describeStorage } from '../../helpers/storage.js';

class TimelineCase extends Case.extend('TimelineCase', {
  color: field.string().default('red'),
  marks: field.array(field.string()).default([]),
}) {}

function at(iso: string): Date {
  return new Date(iso);
}

describeStorage('storage: cases', (getStorage) => {
  describe('create, retrieve, update, delete', () => {
    it('stores a case and reads back the same document', async () => {
      const storage = getStorage();
      const c = new Case({ name: 'Suspicious login', description: 'VPN', acs: ['soc', 'ir'], tsid: 'T-1' });
      expect(await storage.createCase(c)).toBe(c);
      const back = await storage.retrieveCase(Case, c.guid);
      expect(back).toBeInstanceOf(Case);
      expect(back!.toJSON()).toEqual(c.toJSON());
      expect(back!.created).toEqual(c.created);
    });

    it('returns null for unknown and malformed guids', async () => {
      const storage = getStorage();
      expect(await storage.retrieveCase(Case, randomUUID())).toBeNull();
      expect(await storage.retrieveCase(Case, 'not-a-guid')).toBeNull();
      expect(await storage.deleteCase('not-a-guid')).toBe(false);
    });

    it('replaces the whole document on update and keeps the columns in sync', async () => {
      const storage = getStorage();
      const c = await storage.createCase(new Case({ name: 'before', acs: ['a'] }));
      const loaded = (await storage.retrieveCase(Case, c.guid))!;
      loaded.update({ name: 'after', acs: ['b', 'c'], closed: '2025-01-02T03:04:05+00:00' });
      expect(await storage.updateCase(loaded)).toBe(loaded);
      const back = (await storage.retrieveCase(Case, c.guid))!;
      expect(back.name).toBe('after');
      expect(back.acs).toEqual(['b', 'c']);
      expect(back.updated).not.toBeNull();
      const row = await storage.knex('fusion_case').where({ guid: c.guid }).first();
      expect(row.name).toBe('after');
      expect(row.acs).toEqual(['b', 'c']);
      expect(row.closed.toISOString()).toBe('2025-01-02T03:04:05.000Z');
      expect(row.updated.getTime()).toBe(back.updated!.getTime());
      expect(row.document.name).toBe('after');
    });

    it('refuses to update a case that is not stored', async () => {
      const storage = getStorage();
      await expect(storage.updateCase(new Case({ name: 'ghost' }))).rejects.toMatchObject({ code: 'FUSION_ERR_CASE_NOT_FOUND' });
    });

    it('deletes a case once', async () => {
      const storage = getStorage();
      const c = await storage.createCase(new Case({ name: 'doomed' }));
      expect(await storage.deleteCase(c.guid)).toBe(true);
      expect(await storage.retrieveCase(Case, c.guid)).toBeNull();
      expect(await storage.deleteCase(c.guid)).toBe(false);
    });

    it('refuses a duplicate guid and changes nothing', async () => {
      const storage = getStorage();
      const c = await storage.createCase(new Case({ name: 'original', acs: ['a'] }));
      const twin = Case.fromJSON({ ...c.toJSON(), name: 'impostor', acs: [] });
      await expect(storage.createCase(twin)).rejects.toMatchObject({ code: 'FUSION_ERR_CASE_EXISTS', status: 409 });
      const rows = await storage.knex('fusion_case').where({ guid: c.guid });
      expect(rows).toHaveLength(1);
      expect(rows[0].name).toBe('original');
      expect((await storage.retrieveCase(Case, c.guid))!.toJSON()).toEqual(c.toJSON());
    });
  });

  describe('enumerate with access control', () => {
    const open = new Case({ name: 'open', created: at('2024-01-01T00:00:00Z') });
    const soc = new Case({ name: 'soc', acs: ['soc'], created: at('2024-01-02T00:00:00Z') });
    const alice = new Case({ name: 'alice', acs: ['alice'], created: at('2024-01-03T00:00:00Z') });
    const secret = new Case({ name: 'secret', acs: ['dfir', 'ceo'], created: at('2024-01-04T00:00:00Z') });

    beforeEach(async () => {
      const storage = getStorage();
      await clearStorage(storage);
      // Inserted out of order: enumeration orders by created, then guid.
      for (const c of [secret, alice, open, soc]) await storage.createCase(c);
    });

    const names = (cases: Case[]): string[] => cases.map((c) => c.name);

    it('shows open cases and cases matching a group or the username', async () => {
      const storage = getStorage();
      const identity = new Identity({ username: 'alice', groups: ['soc'] });
      expect(names(await storage.enumerateCases(Case, { acs: identity.acs }))).toEqual(['open', 'soc', 'alice']);
      expect(names(await storage.enumerateCases(Case, { acs: ['bob', 'soc'] }))).toEqual(['open', 'soc']);
      expect(names(await storage.enumerateCases(Case, { acs: ['ceo'] }))).toEqual(['open', 'secret']);
    });

    it('shows only open cases when nothing matches', async () => {
      const storage = getStorage();
      expect(names(await storage.enumerateCases(Case, { acs: ['mallory'] }))).toEqual(['open']);
      expect(names(await storage.enumerateCases(Case, { acs: [] }))).toEqual(['open']);
    });

    it('shows every case when acs is undefined', async () => {
      const storage = getStorage();
      expect(names(await storage.enumerateCases(Case, {}))).toEqual(['open', 'soc', 'alice', 'secret']);
      expect(names(await storage.enumerateCases(Case))).toEqual(['open', 'soc', 'alice', 'secret']);
    });

    it('orders cases created in the same second by guid', async () => {
      const storage = getStorage();
      await clearStorage(storage);
      const created = at('2024-05-05T05:05:05Z');
      const guids = ['f0000000-0000-4000-8000-000000000000', '00000000-0000-4000-8000-000000000000', '80000000-0000-4000-8000-000000000000'];
      for (const guid of guids) await storage.createCase(new Case({ guid, name: guid, created }));
      expect((await storage.enumerateCases(Case)).map((c) => c.guid)).toEqual([...guids].sort());
    });
  });

  describe('Case subclasses', () => {
    it('round-trips the extra fields of a subclass', async () => {
      const storage = getStorage();
      const c = new TimelineCase({ name: 'timeline', color: 'blue', marks: ['x', 'y'] });
      await storage.createCase(c);
      const back = await storage.retrieveCase(TimelineCase, c.guid);
      expect(back).toBeInstanceOf(TimelineCase);
      expect(back!.color).toBe('blue');
      expect(back!.marks).toEqual(['x', 'y']);
      const row = await storage.knex('fusion_case').where({ guid: c.guid }).first();
      expect(row.document).toMatchObject({ color: 'blue', marks: ['x', 'y'] });
      const listed = await storage.enumerateCases(TimelineCase);
      expect(listed.find((item) => item.guid === c.guid)?.color).toBe('blue');
      const asBase = await storage.retrieveCase(Case, c.guid);
      expect(asBase).toBeInstanceOf(Case);
      expect(asBase).not.toBeInstanceOf(TimelineCase);
    });

    it('reports a stored document the class cannot decode as a storage error', async () => {
      const storage = getStorage();
      const c = await storage.createCase(new Case({ name: 'plain' }));
      await storage.knex('fusion_case').where({ guid: c.guid }).update({ document: JSON.stringify({ ...c.toJSON(), name: 42 }) });
      await expect(storage.retrieveCase(Case, c.guid)).rejects.toMatchObject({
        code: 'FUSION_ERR_STORAGE',
        message: expect.stringContaining(`stored case ${c.guid} does not decode as Case`),
      });
    });
  });

  describe('attach', () => {
    it('re-keys the case to the next guid and marks it managed', async () => {
      const storage = getStorage();
      const c = await storage.createCase(new TimelineCase({ name: 'local', color: 'green', acs: ['soc'] }));
      const next = randomUUID();
      const attached = await storage.attachCase(TimelineCase, c.guid, next);
      expect(attached).toBeInstanceOf(TimelineCase);
      expect(attached!.guid).toBe(next);
      expect(attached!.managed).toBe(true);
      expect(await storage.retrieveCase(TimelineCase, c.guid)).toBeNull();
      const back = (await storage.retrieveCase(TimelineCase, next))!;
      expect(back.toJSON()).toEqual({ ...c.toJSON(), guid: next, managed: true });
      const row = await storage.knex('fusion_case').where({ guid: next }).first();
      expect(row.managed).toBe(true);
    });

    it('returns null when the case does not exist', async () => {
      const storage = getStorage();
      expect(await storage.attachCase(Case, randomUUID(), randomUUID())).toBeNull();
      expect(await storage.attachCase(Case, 'nope', randomUUID())).toBeNull();
    });

    it('refuses a next guid that belongs to another case, changing nothing', async () => {
      const storage = getStorage();
      const a = await storage.createCase(new Case({ name: 'a' }));
      const b = await storage.createCase(new Case({ name: 'b' }));
      await expect(storage.attachCase(Case, a.guid, b.guid)).rejects.toMatchObject({ code: 'FUSION_ERR_CASE_EXISTS' });
      expect((await storage.retrieveCase(Case, a.guid))!.toJSON()).toEqual(a.toJSON());
      expect((await storage.retrieveCase(Case, b.guid))!.toJSON()).toEqual(b.toJSON());
    });

    it('refuses to attach a managed case again', async () => {
      const storage = getStorage();
      const c = await storage.createCase(new Case({ name: 'once' }));
      const next = randomUUID();
      await storage.attachCase(Case, c.guid, next);
      await expect(storage.attachCase(Case, next, randomUUID())).rejects.toMatchObject({ code: 'FUSION_ERR_CASE_MANAGED' });
      expect((await storage.retrieveCase(Case, next))!.managed).toBe(true);
    });

    it('marks the case managed when the next guid is its own', async () => {
      const storage = getStorage();
      const c = await storage.createCase(new Case({ name: 'same' }));
      const attached = await storage.attachCase(Case, c.guid, c.guid);
      expect(attached!.guid).toBe(c.guid);
      expect((await storage.retrieveCase(Case, c.guid))!.managed).toBe(true);
    });

    it('refuses a malformed next guid', async () => {
      const storage = getStorage();
      const c = await storage.createCase(new Case({ name: 'bad next' }));
      await expect(storage.attachCase(Case, c.guid, 'not-a-guid')).rejects.toMatchObject({ code: 'FUSION_ERR_BAD_GUID' });
      expect((await storage.retrieveCase(Case, c.guid))!.managed).toBe(false);
    });
  });
});
