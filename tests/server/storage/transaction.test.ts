import { randomUUID } from 'node:crypto';
import { expect, it } from '@jest/globals';
import { Case } from '../../../src/concept/index.js';
import type { FusionStorage } from '../../../src/server/storage/storage.js';
import { describeStorage } from '../../helpers/storage.js';

const TIMEOUT = 30_000;

describeStorage('storage: transaction()', (getStorage) => {
  it(
    'commits every write of the callback together, and returns its value',
    async () => {
      const storage = getStorage();
      const a = new Case({ name: 'tx a' });
      const b = new Case({ name: 'tx b' });
      const value = await storage.transaction(async (tx) => {
        await tx.createCase(a);
        await tx.createCase(b);
        expect((await tx.retrieveCase(Case, a.guid))?.name).toBe('tx a'); // sees its own writes
        return 42;
      });
      expect(value).toBe(42);
      expect(await storage.retrieveCase(Case, a.guid)).not.toBeNull();
      expect(await storage.retrieveCase(Case, b.guid)).not.toBeNull();
    },
    TIMEOUT,
  );

  it(
    'rolls every write back when the callback throws (nested calls and the root storage included)',
    async () => {
      const storage = getStorage();
      const kept = await storage.createCase(new Case({ name: 'kept' }));
      const a = new Case({ name: 'gone a' });
      const b = new Case({ name: 'gone b' });
      let inner: FusionStorage | undefined;
      await expect(
        storage.transaction(async (tx) => {
          await tx.createCase(a);
          await tx.transaction(async (nested) => {
            inner = nested;
            await nested.updateCase(kept.clone().update({ description: 'changed' }));
          });
          await storage.createCase(b); // the root storage joins the transaction (PGlite would wait forever otherwise)
          await storage.deleteCase(kept.guid);
          throw new Error('give up');
        }),
      ).rejects.toThrow('give up');
      expect(await storage.retrieveCase(Case, a.guid)).toBeNull();
      expect(await storage.retrieveCase(Case, b.guid)).toBeNull();
      const after = await storage.retrieveCase(Case, kept.guid);
      expect(after?.toJSON()).toEqual(kept.toJSON());
      // A storage kept past its transaction refuses to run outside it.
      await expect(inner!.retrieveCase(Case, kept.guid)).rejects.toMatchObject({ code: 'FUSION_ERR_STORAGE' });
    },
    TIMEOUT,
  );

  it(
    'refuses locks, migrate and close inside; its knex is the transaction',
    async () => {
      const storage = getStorage();
      const guid = randomUUID();
      await storage.transaction(async (tx) => {
        expect(tx.kind).toBe(storage.kind);
        expect(tx.schema).toBe(storage.schema);
        await expect(tx.withAdvisoryLock('k', async () => 1)).rejects.toMatchObject({ code: 'FUSION_ERR_STORAGE' });
        await expect(tx.tryAdvisoryLock('k', async () => 1)).rejects.toMatchObject({ code: 'FUSION_ERR_STORAGE' });
        await expect(tx.migrate()).rejects.toThrow('not allowed inside a storage transaction');
        await expect(tx.close()).rejects.toThrow('not allowed inside a storage transaction');
        await tx.createCase(new Case({ guid, name: 'raw' }));
        const row = await tx.knex('fusion_case').where({ guid }).first('name');
        expect(row).toEqual({ name: 'raw' });
      });
      expect((await storage.retrieveCase(Case, guid))?.name).toBe('raw');
    },
    TIMEOUT,
  );

  it(
    'runs concurrent transactions one after another on PGlite, side by side on PostgreSQL, without deadlock',
    async () => {
      const storage = getStorage();
      const cases = Array.from({ length: 6 }, (_, i) => new Case({ name: `concurrent ${i}` }));
      await Promise.all(cases.map((c) => storage.transaction(async (tx) => tx.createCase(c))));
      for (const c of cases) expect(await storage.retrieveCase(Case, c.guid)).not.toBeNull();
    },
    TIMEOUT,
  );
});
