import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Analysis } from '../../../src/concept/index.js';
import { AnalyzerInfo } from '../../../src/concept/index.js';
import type { FusionAnalyzer } from '../../../src/server/analyzer/analyzer.js';
import { FusionAnalysisAPI } from '../../../src/server/analyzer/impl.js';
import { FusionAnalyzerPool } from '../../../src/server/analyzer/pool.js';
import { FusionEventAPI } from '../../../src/server/event/impl.js';
import { createTestServer } from '../../../src/testing/index.js';
import type { TestServer } from '../../../src/testing/index.js';
import { silenceAudit } from '../../server/event/helpers.js';
import { runFusion } from '../run-fusion.js';

const analyzers: FusionAnalyzer[] = [
  {
    info: new AnalyzerInfo({ name: 'echo', version: '1.2.0', tags: ['test', 'cli'] }),
    async process(analysis, context) {
      await context.log(`echo for ${analysis.case_guid}`);
    },
  },
  { info: new AnalyzerInfo({ name: 'idle' }), process: async () => undefined },
];

describe('fusion analysis, against a live server', () => {
  silenceAudit();
  let t: TestServer;
  let api: FusionAnalysisAPI;
  let directory: string;
  let asService: Record<string, string>;
  const fusion = (args: string[], env: Record<string, string> = asService) => runFusion(args, { env });
  const json = <T = Record<string, unknown>>(stdout: string): T => JSON.parse(stdout) as T;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'fusion-cli-analyses-'));
    api = new FusionAnalysisAPI(analyzers);
    t = await createTestServer({
      apis: [new FusionEventAPI({ webhooks: false }), api],
      config: { event: {}, analyzers: { directory, lease: 5, poll_interval: 0.1 } },
    });
    asService = { FUSION_URL: t.baseUrl, FUSION_API_KEY: t.apiKey };
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('analyzers: the enabled analyzers as a table and JSON', async () => {
    const table = await fusion(['analysis', 'analyzers']);
    expect(table).toMatchObject({ code: 0, stderr: '' });
    expect(table.stdout).toBe('NAME  VERSION  TAGS\necho  1.2.0    cli,test\nidle  -        -\n');
    expect(json<unknown[]>((await fusion(['analysis', 'analyzers', '--json'])).stdout)).toEqual([
      { name: 'echo', version: '1.2.0', tags: ['cli', 'test'] },
      { name: 'idle', version: '', tags: [] },
    ]);
  });

  it('queue, list, get and log an analysis a worker runs; exit 5 when queued twice', async () => {
    const { guid } = await t.clients.service.case.createCase({ name: 'analysed by the CLI' });
    const queued = await fusion(['analysis', 'queue', guid, 'echo', '--priority', 'high', '--json']);
    expect(queued.code).toBe(0);
    expect(json(queued.stdout)).toMatchObject({ case_guid: guid, analyzer: 'echo', status: 'queued', priority: 'high' });
    const again = await fusion(['analysis', 'queue', guid, 'echo']);
    expect(again.code).toBe(5);
    expect(again.stderr).toContain('FUSION_ERR_ANALYSIS_TRANSITION');
    expect(await fusion(['analysis', 'log', guid, 'echo'])).toMatchObject({ code: 0, stdout: '' });

    const pool = new FusionAnalyzerPool({ host: t.server, analyzer: analyzers[0]!, config: api.config, workers: 1 });
    try {
      const finished = once(pool, 'finished', { signal: AbortSignal.timeout(60_000) });
      await pool.start();
      expect(((await finished)[0] as Analysis).status).toBe('success');
    } finally {
      await pool.stop();
    }

    const list = await fusion(['analysis', 'list', guid]);
    expect(list.stdout.split('\n')[0]).toMatch(/^ANALYZER\s+STATUS\s+PRIORITY\s+CREATED\s+STARTED\s+FINISHED\s+ERROR$/);
    expect(list.stdout).toMatch(/^echo\s+success\s+high\s+\S+\s+\S+\s+\S+\s+-$/m);
    expect(await fusion(['analysis', 'get', guid, 'echo'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^status\s+success$/m) });
    const log = await fusion(['analysis', 'log', guid, 'echo']);
    expect(log).toMatchObject({ code: 0, stderr: '' });
    expect(log.stdout).toContain(`echo for ${guid}`);
    expect(json((await fusion(['analysis', 'log', guid, 'echo', '--json'])).stdout)).toEqual({ case_guid: guid, analyzer: 'echo', log: log.stdout });
  }, 90_000);

  it('exit codes: 4 for an unknown analyzer or analysis, 8 for a bad guid, 2 for a bad priority, 3 without credentials', async () => {
    const { guid } = await t.clients.service.case.createCase({ name: 'refusals' });
    const unknown = await fusion(['analysis', 'queue', guid, 'nope']);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('FUSION_ERR_ANALYZER_UNKNOWN');
    expect((await fusion(['analysis', 'get', guid, 'idle'])).code).toBe(4);
    expect((await fusion(['analysis', 'log', guid, 'idle'])).code).toBe(4);
    const badGuid = await fusion(['analysis', 'list', 'not-a-guid']);
    expect(badGuid.code).toBe(8);
    expect(badGuid.stderr).toContain('FUSION_ERR_BAD_GUID');
    expect(await fusion(['analysis', 'queue', guid, 'idle', '--priority', 'urgent'])).toMatchObject({ code: 2, stderr: expect.stringContaining('Allowed choices are low, medium, high') });
    expect((await fusion(['analysis', 'list', guid], { FUSION_URL: t.baseUrl })).code).toBe(3);
    expect(await fusion(['analysis', 'list', guid])).toMatchObject({ code: 0, stdout: 'ANALYZER  STATUS  PRIORITY  CREATED  STARTED  FINISHED  ERROR\n' });
  });
});
