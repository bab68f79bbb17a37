import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Case } from '../../../src/concept/index.js';
import { parseConfig } from '../../../src/server/config.js';
import { SYNC_SECTIONS, SyncStorage, syncCase } from '../../../src/server/task/sync-storage.js';
import { readSynchronizerConfig, synchronizeCases, synchronizerTask } from '../../../src/server/task/synchronizer.js';
import { FusionTaskRunner } from '../../../src/server/task/runner.js';
import { describeStorage, quietLogger } from '../../helpers/storage.js';
import type { FusionLogger } from '../../../src/helper/logging.js';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'fusion-sync-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

it('syncCase creates [tsid] name with its five sections, renames it with the case, rewrites case.json only on change', async () => {
  const storage = new SyncStorage(join(directory, 'unit'));
  const caseObj = new Case({ name: 'Phishing / wave 2', tsid: 'CERT-42' });
  expect(await syncCase(storage, caseObj)).toBe('created');
  const folder = join(storage.directory, '[CERT-42] Phishing _ wave 2');
  expect((await readdir(folder)).filter((name) => !name.startsWith('.')).sort()).toEqual([...SYNC_SECTIONS]);
  // edf_fusion's own names (edf_fusion/server/storage.py, SyncStorage)
  expect([...SYNC_SECTIONS]).toEqual(['01 - Information', '02 - Collectors', '03 - Collections', '04 - Samples', '05 - Reports']);
  expect(JSON.parse(await readFile(join(folder, '01 - Information', 'case.json'), 'utf8'))).toEqual(caseObj.toJSON());
  expect(await syncCase(storage, caseObj)).toBe('unchanged');
  caseObj.update({ description: 'more detail' });
  expect(await syncCase(storage, caseObj)).toBe('updated');
  caseObj.update({ name: 'Phishing wave 2' });
  expect(await syncCase(storage, caseObj)).toBe('renamed');
  expect(existsSync(folder)).toBe(false);
  expect(JSON.parse(await readFile(join(storage.directory, '[CERT-42] Phishing wave 2', '01 - Information', 'case.json'), 'utf8')).name).toBe('Phishing wave 2');
});

it('reads synchronizer.{enabled, directory, interval} and names a bad key', () => {
  const config = parseConfig({ synchronizer: { directory: '/srv/cases', interval: 60 } });
  expect(readSynchronizerConfig(config)).toEqual({ enabled: true, directory: '/srv/cases', interval: 60 });
  expect(readSynchronizerConfig(parseConfig({}))).toBeNull();
  expect(() => readSynchronizerConfig(parseConfig({ synchronizer: { directory: '/x', intervall: 5 } }))).toThrow(/synchronizer.intervall: unknown key, did you mean `interval`/);
  expect(() => readSynchronizerConfig(parseConfig({ synchronizer: {} }))).toThrow(/synchronizer.directory/);
});

describeStorage('synchronizer over stored cases', (getStorage, kind) => {
  it('syncs every stored case; the task is a singleton interval task', async () => {
    const storage = getStorage();
    await storage.createCase(new Case({ name: `first ${kind}` }));
    await storage.createCase(new Case({ name: `second ${kind}`, tsid: 'T-2' }));
    const target = new SyncStorage(join(directory, kind));
    const counts = await synchronizeCases({ storage, caseClass: Case }, target);
    expect(counts.created).toBeGreaterThanOrEqual(2);
    expect(await readdir(target.directory)).toEqual(expect.arrayContaining([`first ${kind}`, `[T-2] second ${kind}`]));
    const config = parseConfig({ synchronizer: { directory: target.directory, interval: 30 } });
    expect(synchronizerTask({ storage, caseClass: Case, config })).toMatchObject({ name: 'synchronizer', on: 'interval', interval: 30, singleton: true });
    expect(synchronizerTask({ storage, caseClass: Case, config: parseConfig({ synchronizer: { directory: '/x', enabled: false } }) })).toBeNull();
  });

  it('the configured task, run by a task runner, syncs every case, a case added or renamed since included', async () => {
    const storage = getStorage();
    const logger = { ...quietLogger, child: () => logger } as unknown as FusionLogger;
    const target = join(directory, `task-${kind}`);
    const config = parseConfig({ synchronizer: { directory: target, interval: 30 } });
    const runner = new FusionTaskRunner({ storage, logger });
    try {
      runner.register(synchronizerTask({ storage, caseClass: Case, config })!);
      const all = async (): Promise<string[]> => (await storage.enumerateCases(Case)).map((c) => (c.tsid ? `[${c.tsid}] ${c.name}` : c.name)).sort();
      expect(await runner.runOnce('synchronizer')).toBe(true);
      expect((await readdir(target)).sort()).toEqual(await all());
      const added = await storage.createCase(new Case({ name: `added ${kind}`, tsid: 'T-9' }));
      expect(await runner.runOnce('synchronizer')).toBe(true);
      expect((await readdir(target)).sort()).toEqual(await all());
      added.update({ name: `renamed ${kind}` });
      await storage.updateCase(added);
      expect(await runner.runOnce('synchronizer')).toBe(true);
      expect((await readdir(target)).sort()).toEqual(await all());
      expect(await readdir(target)).not.toContain(`[T-9] added ${kind}`);
      expect(await readdir(target)).toContain(`[T-9] renamed ${kind}`);
      for (const folder of await readdir(target)) expect((await readdir(join(target, folder))).filter((name) => !name.startsWith('.')).sort()).toEqual([...SYNC_SECTIONS]);
    } finally {
      await runner.stop();
    }
  });
});
