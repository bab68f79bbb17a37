// `fusion analyzer NAME`: two processes sharing the work, a worker SIGKILLed mid-analysis, --metrics-port.
import { readFile, writeFile } from 'node:fs/promises';
import { expect, it } from '@jest/globals';
import { request } from 'undici';
import { sample } from '../server/metrics/scrape.js';
import { describeRoles, fusion, until, waitForOutput } from './role-helpers.js';

/** Analyses counted across two processes (issue 11): alone, this test took 15 s at load 6.3 on 2 cores; the bounds allow 20 times that. */
const ANALYSES = 1000;

describeRoles('fusion analyzer (separate processes, PostgreSQL)', (suite) => {
  it(`two analyzer processes share ${ANALYSES} analyses and never run one twice`, async () => {
    const a = fusion(['analyzer', 'count', '--config', suite().config]);
    const b = fusion(['analyzer', 'count', '--config', suite().config]);
    await Promise.all([waitForOutput(a, 'started'), waitForOutput(b, 'started')]);
    await suite().queue('count', ANALYSES);
    const done = async (): Promise<number> => Number((await suite().storage.knex('fusion_analysis').where({ analyzer: 'count', status: 'success' }).count<{ count: string }[]>('* as count'))[0]!.count);
    await until(`${ANALYSES} analyses done`, async () => (await done()) >= ANALYSES, 300_000);
    const runs = await suite().storage.knex('test_runs').select('case_guid', 'pid');
    expect(runs).toHaveLength(ANALYSES);
    expect(new Set(runs.map((run: { case_guid: string }) => run.case_guid)).size).toBe(ANALYSES);
    const byPid = new Set(runs.map((run: { pid: number }) => run.pid));
    expect(byPid).toEqual(new Set([a.process.pid, b.process.pid]));
    a.process.kill('SIGTERM');
    b.process.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
  }, 400_000);

  it('an analysis whose worker is SIGKILLed mid-run is retried after restart, then failed once its retries are used', async () => {
    const [guid] = await suite().queue('hold', 1);
    const status = async (): Promise<{ status: string; attempts: number; error: string | null }> =>
      suite().storage.knex('fusion_analysis').where({ case_guid: guid, analyzer: 'hold' }).first('status', 'attempts', 'error');
    for (const attempt of [1, 2]) {
      const worker = fusion(['analyzer', 'hold', '--config', suite().config]);
      await waitForOutput(worker, `holding ${guid}`, 90_000);
      expect(await status()).toMatchObject({ status: 'processing', attempts: attempt });
      worker.process.kill('SIGKILL');
      await worker.exited;
      expect((await status()).status).toBe('processing'); // until a worker sees the lease expire
    }
    const last = fusion(['analyzer', 'hold', '--config', suite().config]);
    await until('the analysis to fail', async () => (await status()).status === 'failure', 90_000);
    expect((await status()).error).toMatch(/worker was lost 2 time/);
    last.process.kill('SIGTERM');
    expect(await last.exited).toBe(0);
  }, 240_000);

  it('--metrics-port serves the metrics of the analyzer process (the queue depth shows its running analysis)', async () => {
    const key = 'analyzer-metrics-scrape-key-0123456789ab';
    const config = suite().config.replace(/\.yaml$/, '-metrics.yaml');
    await writeFile(config, `${await readFile(suite().config, 'utf8')}metrics: { enabled: true }\nauth: { clients: [{ name: prometheus, key: ${key} }] }\n`);
    const [guid] = await suite().queue('hold', 1);
    const worker = fusion(['analyzer', 'hold', '--config', config, '--metrics-port', '0']);
    await waitForOutput(worker, `holding ${guid}`, 90_000);
    const url = /metrics at (\S+)/.exec(worker.stdout)?.[1];
    const answer = await request(url!, { headers: { 'x-fusion-api-token': key } });
    expect(answer.statusCode).toBe(200);
    expect(sample(await answer.body.text(), 'fusion_analysis_queue_depth', { analyzer: 'hold', status: 'processing' })).toBe(1);
    worker.process.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 120_000);

  it('bad arguments fail naming what was wrong: --workers 0 (2), an unknown analyzer, an unknown task (2)', async () => {
    const zero = fusion(['analyzer', 'count', '--workers', '0', '--config', suite().config]);
    expect(await zero.exited).toBe(2);
    expect(zero.stderr).toContain('--workers must be an integer >= 1, got 0');
    const analyzer = fusion(['analyzer', 'nope', '--config', suite().config]);
    expect(await analyzer.exited).not.toBe(0);
    expect(analyzer.stderr).toMatch(/no analyzer named "nope"; its analyzers: count, hold/);
    const task = fusion(['task', 'nope', '--config', suite().config]);
    expect(await task.exited).toBe(2);
    expect(task.stderr).toMatch(/no task named "nope"; its tasks: .*beat.*synchronizer/);
  }, 180_000);
});
