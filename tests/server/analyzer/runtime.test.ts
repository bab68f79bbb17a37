// The analyzer runtime beyond the happy path: age order within a priority, N workers at once, a graceful stop
// mid-analysis, one transaction per transition and its event, a timed-out subprocess killed, the output tree zipped.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from '@jest/globals';
import type { Case } from '../../../src/concept/index.js';
import { AnalyzerInfo } from '../../../src/concept/index.js';
import { extractZip } from '../../../src/helper/zip.js';
import type { FusionAnalyzer } from '../../../src/server/analyzer/analyzer.js';
import { ANALYSIS_TABLE } from '../../../src/server/analyzer/analysis-rows.js';
import { bossSchema } from '../../../src/server/task/boss.js';
import { describeStorage } from '../../helpers/storage.js';
import { analysisEvents, finished, useAnalysisSuite } from './pool-helpers.js';
import { silenceAudit, until } from '../event/helpers.js';

const ran: string[] = [];
const trio = { active: 0, peak: 0, wake: [] as Array<() => void> };
const held = { calls: 0, started: (): void => undefined };

const analyzers: FusionAnalyzer[] = [
  { info: new AnalyzerInfo({ name: 'fifo' }), process: async (analysis) => void ran.push(analysis.case_guid) },
  {
    // Each run waits until three run at once: with fewer workers, none would finish before its timeout.
    info: new AnalyzerInfo({ name: 'trio' }),
    async process(_analysis, { signal }) {
      trio.active++;
      trio.peak = Math.max(trio.peak, trio.active);
      try {
        if (trio.active >= 3) for (const wake of trio.wake.splice(0)) wake();
        else {
          await new Promise<void>((resolve, reject) => {
            trio.wake.push(resolve);
            signal.addEventListener('abort', () => reject(signal.reason), { once: true });
          });
        }
      } finally {
        trio.active--;
      }
    },
  },
  {
    // The first run holds until the pool stops; the next one succeeds.
    info: new AnalyzerInfo({ name: 'held' }),
    async process(_analysis, { signal }) {
      if (++held.calls > 1) return;
      held.started();
      await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    },
  },
  { info: new AnalyzerInfo({ name: 'atomic' }), process: async () => undefined },
  {
    info: new AnalyzerInfo({ name: 'killer' }),
    process: async (_analysis, context) => void (await context.run(['sh', '-c', `echo $$ > "${join(context.directory, 'pid')}"; exec sleep 300`])),
  },
  { info: new AnalyzerInfo({ name: 'fresh' }), process: async () => undefined },
  {
    info: new AnalyzerInfo({ name: 'zipper' }),
    async process(_analysis, { outputDirectory }) {
      await mkdir(join(outputDirectory, 'sub'), { recursive: true });
      await writeFile(join(outputDirectory, 'top.txt'), 'top\n');
      await writeFile(join(outputDirectory, 'sub', 'inner.bin'), Buffer.from([0, 1, 2, 255]));
    },
  },
];

describeStorage('analyzer runtime (order, workers, stop, atomicity, subprocess, zip)', (getStorage) => {
  silenceAudit();
  const s = useAnalysisSuite(getStorage, analyzers, { lease: 2, poll_interval: 0.1, fifo: { workers: 1 }, trio: { workers: 3, timeout: 120 }, atomic: { retries: 100 }, killer: { timeout: 1 } });
  async function newCase(): Promise<Case> {
    return s.t.clients.service.case.createCase({ name: 'runtime' });
  }
  const categories = (caseGuid: string): Promise<string[]> => analysisEvents(getStorage().knex, caseGuid);
  async function row(caseGuid: string, analyzer: string): Promise<{ status: string; attempts: number; owner: string | null; job_id: string }> {
    return getStorage().knex(ANALYSIS_TABLE).where({ case_guid: caseGuid, analyzer }).first('status', 'attempts', 'owner', 'job_id');
  }

  it('within one priority the oldest runs first, after every higher one', async () => {
    ran.length = 0;
    const mediums: string[] = [];
    for (let i = 0; i < 4; i++) {
      const caseObj = await newCase();
      mediums.push(caseObj.guid);
      await s.client.queueAnalysis(caseObj.guid, 'fifo', { priority: 'medium' });
    }
    const high = await newCase();
    await s.client.queueAnalysis(high.guid, 'fifo', { priority: 'high' });
    const pool = s.startPool('fifo');
    const done = finished(pool, 5);
    await pool.start();
    await done;
    expect(ran).toEqual([high.guid, ...mediums]);
  });

  it('a pool with workers: 3 runs three analyses at once', async () => {
    trio.peak = 0;
    for (let i = 0; i < 3; i++) await s.client.queueAnalysis((await newCase()).guid, 'trio');
    const pool = s.startPool('trio');
    const done = finished(pool, 3);
    await pool.start();
    expect((await done).map((analysis) => analysis.status)).toEqual(['success', 'success', 'success']);
    expect(trio.peak).toBe(3);
  });

  it('stopping a pool mid-analysis puts it back in the queue (processing → pending → queued, attempt given back); the next pool runs it', async () => {
    held.calls = 0;
    const caseObj = await newCase();
    await s.client.queueAnalysis(caseObj.guid, 'held');
    const started = new Promise<void>((resolve) => (held.started = resolve));
    const first = s.startPool('held');
    await first.start();
    await started;
    expect(await row(caseObj.guid, 'held')).toMatchObject({ status: 'processing', attempts: 1 });
    await first.stop();
    expect(await row(caseObj.guid, 'held')).toMatchObject({ status: 'queued', attempts: 0, owner: null });
    expect(await categories(caseObj.guid)).toEqual(['analysis_pending', 'analysis_queued', 'analysis_extracting', 'analysis_processing', 'analysis_pending', 'analysis_queued']);
    const second = s.startPool('held');
    const done = finished(second);
    await second.start();
    expect((await done)[0]!.status).toBe('success');
    expect(held.calls).toBe(2);
  });

  it('a transition whose event cannot be written does not happen (one transaction); the analysis is recovered, never stuck', async () => {
    const caseObj = await newCase();
    const { knex } = getStorage();
    await knex.raw(`CREATE FUNCTION refuse_event() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'event refused by the test'; END $$`);
    await knex.raw(
      `CREATE TRIGGER refuse_success BEFORE INSERT ON fusion_event FOR EACH ROW WHEN (NEW.category = 'analysis_success' AND NEW.case_guid::text = '${caseObj.guid}') EXECUTE FUNCTION refuse_event()`,
    );
    try {
      await s.client.queueAnalysis(caseObj.guid, 'atomic');
      const { job_id: jobId } = await row(caseObj.guid, 'atomic');
      const pool = s.startPool('atomic');
      await pool.start();
      const jobs = `${bossSchema(getStorage())}.job`;
      await until(async () => (await knex.raw(`SELECT state FROM ${jobs} WHERE id = ?`, [jobId])).rows[0]?.state === 'completed', 30_000, 'the first run to end');
      expect((await row(caseObj.guid, 'atomic')).status).not.toBe('success');
      expect(await categories(caseObj.guid)).not.toContain('analysis_success');
      expect(await categories(caseObj.guid)).toContain('analysis_processing');
      const done = finished(pool);
      await knex.raw('DROP TRIGGER refuse_success ON fusion_event');
      expect((await done)[0]!.status).toBe('success');
    } finally {
      await knex.raw('DROP TRIGGER IF EXISTS refuse_success ON fusion_event');
      await knex.raw('DROP FUNCTION IF EXISTS refuse_event()');
    }
    const events = await categories(caseObj.guid);
    expect(events.filter((category) => category === 'analysis_success')).toHaveLength(1);
    expect(events.at(-1)).toBe('analysis_success');
    // processing → pending: the refused success left it processing until recovery took it back
    expect(events.join(' ')).toContain('analysis_processing analysis_pending analysis_queued');
  });

  it('a subprocess past the timeout is killed; the analysis fails with its log kept', async () => {
    const caseObj = await newCase();
    await s.client.queueAnalysis(caseObj.guid, 'killer');
    const pool = s.startPool('killer');
    const done = finished(pool);
    await pool.start();
    const [analysis] = await done;
    expect(analysis!.toJSON()).toMatchObject({ status: 'failure', error: expect.stringMatching(/timed out/) });
    const pid = Number((await readFile(join(s.directory, caseObj.guid, 'killer', 'pid'), 'utf8')).trim());
    const alive = (): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await until(() => !alive(), 30_000, `the subprocess ${pid} to be gone`);
    const log = await s.client.retrieveLog(caseObj.guid, 'killer');
    expect(log).toContain('$ sh -c');
    expect(log).toMatch(/failure: analysis timed out/);
  });

  it('the output directory is zipped with its tree', async () => {
    const caseObj = await newCase();
    await s.client.queueAnalysis(caseObj.guid, 'zipper');
    const pool = s.startPool('zipper');
    const done = finished(pool);
    await pool.start();
    expect((await done)[0]!.status).toBe('success');
    const unzipped = join(s.directory, 'unzipped', caseObj.guid);
    await extractZip(join(s.directory, caseObj.guid, 'zipper', 'output.zip'), unzipped);
    expect(await readFile(join(unzipped, 'top.txt'), 'utf8')).toBe('top\n');
    expect([...(await readFile(join(unzipped, 'sub', 'inner.bin')))]).toEqual([0, 1, 2, 255]);
  });

  it('queueing inside the caller transaction works for an analyzer never queued before (its pg-boss queue created first), and commits with it', async () => {
    const caseObj = await newCase();
    const storage = getStorage();
    const queued = storage.transaction(async (tx) => {
      await tx.knex.raw('SELECT 1');
      return s.api.queue(caseObj, 'fresh', { trx: tx.knex as never });
    });
    const hung = new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('queueing inside the transaction did not finish within 20 s')), 20_000).unref());
    expect((await Promise.race([queued, hung])).status).toBe('queued');
    const pool = s.startPool('fresh');
    const done = finished(pool);
    await pool.start();
    expect((await done)[0]!.status).toBe('success');
  });
});
