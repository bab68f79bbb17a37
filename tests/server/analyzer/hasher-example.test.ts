// docs/analyzers.md's example: examples/hasher/service.ts run as `fusion analyzer hasher` beside `fusion serve` (PostgreSQL).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { FusionAnalysisAPIClient } from '../../../src/client/api/analysis.js';
import { FusionCaseAPIClient } from '../../../src/client/api/case.js';
import { FusionClient } from '../../../src/client/client.js';
import { extractZip } from '../../../src/helper/zip.js';
import { fusion, killChildren, until, waitForOutput } from '../../cli/role-helpers.js';
import { expectDocShowsExampleFile } from '../../helpers/doc-example-file.js';
import { TEST_PG_URL, isCi, pgUnavailableReason, randomSchemaName } from '../../helpers/storage.js';

const MODULE = fileURLToPath(new URL('../../../examples/hasher/service.ts', import.meta.url));
const reason = pgUnavailableReason();
const suite = reason === null || isCi() ? describe : describe.skip;
if (reason !== null && !isCi()) console.warn(`hasher example skipped: ${reason}`);

it('docs/analyzers.md shows the example service module', async () => {
  await expectDocShowsExampleFile('docs/analyzers.md', 'examples/hasher/service.ts');
});

suite('the hasher example: fusion serve + fusion analyzer hasher', () => {
  let dir: string;
  let config: string;
  const schema = randomSchemaName();
  const key = randomBytes(16).toString('hex');
  let client: FusionClient | undefined;

  beforeAll(async () => {
    if (reason !== null) throw new Error(reason);
    dir = await mkdtemp(join(tmpdir(), 'fusion-hasher-'));
    config = join(dir, 'config.yaml');
    await writeFile(
      config,
      [
        'server: { host: 127.0.0.1, port: 0, log_level: info }',
        `storage: { url: "${TEST_PG_URL}", schema: ${schema} }`,
        `service: { module: "${MODULE}" }`,
        `auth: { backend: { strategy: basic, basic: { users: [] } }, clients: [{ name: collector, key: "${key}" }] }`,
        'case: { allow_empty_acs: true }',
        'event: {}',
        `analyzers: { directory: "${join(dir, 'analyses')}", poll_interval: 0.2, hasher: { workers: 2, timeout: 60 } }`,
        `hasher: { files: "${join(dir, 'files')}" }`,
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await client?.close();
    await killChildren();
    const db = new pg.Client({ connectionString: TEST_PG_URL });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; DROP SCHEMA IF EXISTS "${schema}_boss" CASCADE`);
    await db.end();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('hashes the files of a case with sha256sum and zips the sums', async () => {
    const server = fusion(['serve', '--config', config]);
    await waitForOutput(server, 'listening at', 90_000);
    const analyzer = fusion(['analyzer', 'hasher', '--config', config]);
    const baseUrl = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(server.stdout)![1]!;
    client = new FusionClient({ baseUrl, apiKey: key });
    const cases = new FusionCaseAPIClient({ client });
    const analyses = new FusionAnalysisAPIClient({ client });
    const caseObj = await cases.createCase({ name: 'hashed' });
    const files = join(dir, 'files', caseObj.guid);
    await mkdir(files, { recursive: true });
    const contents = { 'a.txt': 'alpha\n', 'b.bin': randomBytes(1000).toString('base64') };
    for (const [name, content] of Object.entries(contents)) await writeFile(join(files, name), content);
    expect((await analyses.enumerateAnalyzers()).map((info) => info.name)).toEqual(['hasher']);
    await analyses.queueAnalysis(caseObj.guid, 'hasher', { priority: 'high' });
    await waitForOutput(analyzer, 'started', 90_000);
    await until('the analysis to finish', async () => ['success', 'failure'].includes((await analyses.retrieveAnalysis(caseObj.guid, 'hasher')).status), 60_000);
    expect((await analyses.retrieveAnalysis(caseObj.guid, 'hasher')).toJSON()).toMatchObject({ status: 'success', error: null });
    const expected = Object.entries(contents).map(([name, content]) => `${createHash('sha256').update(content).digest('hex')}  ${name}`);
    const log = await analyses.retrieveLog(caseObj.guid, 'hasher');
    expect(log).toContain('$ sha256sum -- a.txt b.bin');
    for (const line of expected) expect(log).toContain(line);
    const unzipped = join(dir, 'unzipped');
    await extractZip(join(dir, 'analyses', caseObj.guid, 'hasher', 'output.zip'), unzipped);
    expect((await readFile(join(unzipped, 'sha256sums.txt'), 'utf8')).trim().split('\n')).toEqual(expected);
  }, 240_000);
});
