/**
 * A storage being closed refuses new queries at once. Before, a query asked for while the pool
 * was being destroyed waited in the pool for the whole acquire timeout (60 s) and failed with
 * tarn's "operation timed out for an unknown reason": a server closed after its storage (as
 * the test helpers did) hung in its webhook worker's next claim.
 */
import { describe, expect, it } from '@jest/globals';
import { FusionError } from '../../../src/helper/errors.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { freshStorage, pgUnavailableReason } from '../../helpers/storage.js';
import type { TestStorageKind } from '../../helpers/storage.js';

interface TarnPool {
  on(event: 'destroyRequest', listener: () => void): void;
}

const kinds: TestStorageKind[] = pgUnavailableReason() === null ? ['postgres', 'pglite'] : ['pglite'];

describe.each(kinds)('closing a %s storage', (kind) => {
  it('refuses a query asked for while the pool is destroyed (FUSION_ERR_STORAGE), without waiting for the acquire timeout', async () => {
    const storage: KnexStorage = await freshStorage(kind);
    await storage.knex.raw('SELECT 1'); // one free connection for the destroy to end
    let late: Promise<unknown> | undefined;
    // The pool is destroying its free connections: past the point where it aborts waiting acquires.
    (storage.knex.client as { pool: TarnPool }).pool.on('destroyRequest', () => {
      late ??= storage.knex.raw('SELECT 1').then(
        () => 'answered',
        (error: unknown) => error,
      );
    });
    await storage.close();
    expect(late).toBeDefined();
    const outcome = await late;
    expect(outcome).toBeInstanceOf(FusionError);
    expect((outcome as FusionError).code).toBe('FUSION_ERR_STORAGE');
    expect((outcome as FusionError).message).toMatch(/closed/);
  }, 30_000);

  it('refuses queries after close, and close stays idempotent', async () => {
    const storage: KnexStorage = await freshStorage(kind);
    await storage.close();
    const error = await storage.knex.raw('SELECT 1').then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(FusionError);
    expect((error as FusionError).code).toBe('FUSION_ERR_STORAGE');
    await storage.close();
  });

  it('lets a transaction begun before close finish (close waits for it)', async () => {
    const storage: KnexStorage = await freshStorage(kind);
    let inside!: () => void;
    const entered = new Promise<void>((resolve) => (inside = resolve));
    let finish!: () => void;
    const finishing = new Promise<void>((resolve) => (finish = resolve));
    const tx = storage.transaction(async (trx) => {
      inside();
      await finishing;
      return (await trx.knex.raw<{ rows: { n: number }[] }>('SELECT 41 + 1 AS n')).rows[0]!.n;
    });
    await entered;
    const closed = storage.close();
    finish();
    expect(await tx).toBe(42);
    await closed;
  });
});
