import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestServer } from '../../../src/testing/index.js';
import type { TestServer } from '../../../src/testing/index.js';
import { silenceAudit } from '../../server/event/helpers.js';
import { runFusion } from '../run-fusion.js';

describe('fusion info and fusion case, against a live server', () => {
  silenceAudit();
  let t: TestServer;
  let asService: Record<string, string>;

  /** `fusion ARGS` with the service's API key from the environment. */
  const fusion = (args: string[], env: Record<string, string> = asService) => runFusion(args, { env });
  const json = (stdout: string): Record<string, unknown> => JSON.parse(stdout) as Record<string, unknown>;

  beforeAll(async () => {
    t = await createTestServer({ config: { info: { api: 'cli-case-test' } } });
    asService = { FUSION_URL: t.baseUrl, FUSION_API_KEY: t.apiKey };
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('info: a table, and JSON with --json', async () => {
    const table = await fusion(['info', '--url', t.baseUrl], {});
    expect(table).toMatchObject({ code: 0, stderr: '' });
    expect(table.stdout).toMatch(/^api\s+cli-case-test$/m);
    const asJson = await fusion(['info', '--json'], { FUSION_URL: t.baseUrl });
    expect(json(asJson.stdout)).toMatchObject({ api: 'cli-case-test', version: expect.any(String) });
  });

  it('case create: prints the case as stored; exit 2 without --name or with bad --data', async () => {
    const created = await fusion(['case', 'create', '--name', 'Phishing wave', '--description', 'from the SOC', '--acs', 'soc,cert', '--json']);
    expect(created.code).toBe(0);
    expect(json(created.stdout)).toMatchObject({ name: 'Phishing wave', description: 'from the SOC', acs: ['cert', 'soc'], managed: true });
    const table = await fusion(['case', 'create', '--data', '{"name": "From data", "tsid": "T-1"}']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^name\s+From data$/m);
    expect(table.stdout).toMatch(/^tsid\s+T-1$/m);
    expect(await fusion(['case', 'create'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--name is required') });
    expect(await fusion(['case', 'create', '--data', '[1]'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--data: expected a JSON object') });
    const invalid = await fusion(['case', 'create', '--name', 'x', '--guid', 'not-a-guid']);
    expect(invalid.code).toBe(8);
    expect(invalid.stderr).toContain('FUSION_ERR_');
  });

  it('case list: a table of the cases, JSON with --json', async () => {
    const { guid } = await t.clients.service.case.createCase({ name: 'Listed case' });
    const table = await fusion(['case', 'list']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^GUID\s+NAME\s+MANAGED\s+CREATED\s+CLOSED\s+ACS$/);
    expect(table.stdout).toMatch(new RegExp(`^${guid}\\s+Listed case\\s+true`, 'm'));
    const list = JSON.parse((await fusion(['case', 'list', '--json'])).stdout) as { guid: string }[];
    expect(list.map((c) => c.guid)).toContain(guid);
  });

  it('case get: one case; exit 4 for an unknown guid, 3 without credentials', async () => {
    const { guid } = await t.clients.service.case.createCase({ name: 'Read me' });
    const got = await fusion(['case', 'get', guid, '--json']);
    expect(json(got.stdout)).toMatchObject({ guid, name: 'Read me' });
    const missing = await fusion(['case', 'get', '00000000-0000-4000-8000-000000000000']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('FUSION_ERR_CASE_NOT_FOUND');
    const anonymous = await fusion(['case', 'get', guid], { FUSION_URL: t.baseUrl });
    expect(anonymous.code).toBe(3);
    expect(anonymous.stderr).toContain('FUSION_ERR_UNAUTHORIZED');
    const badKey = await fusion(['case', 'get', guid, '--api-key', 'wrong-key'], { FUSION_URL: t.baseUrl });
    expect(badKey.code).toBe(3);
  });

  it('case update: only the given fields; --close; exit 5 once closed, 2 with nothing to change', async () => {
    const { guid } = await t.clients.service.case.createCase({ name: 'Before', description: 'kept' });
    const updated = await fusion(['case', 'update', guid, '--name', 'After', '--json']);
    expect(json(updated.stdout)).toMatchObject({ guid, name: 'After', description: 'kept' });
    const closed = await fusion(['case', 'update', guid, '--close', '--json']);
    expect(json(closed.stdout).closed).toEqual(expect.any(String));
    const refused = await fusion(['case', 'update', guid, '--name', 'Too late']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('FUSION_ERR_CASE_CLOSED');
    expect((await fusion(['case', 'update', guid])).code).toBe(2);
  });

  it('case delete: gone afterwards; exit 4 the second time', async () => {
    const { guid } = await t.clients.service.case.createCase({ name: 'Delete me' });
    const deleted = await fusion(['case', 'delete', guid]);
    expect(deleted).toMatchObject({ code: 0, stdout: `deleted ${guid}\n` });
    await expect(t.clients.service.case.retrieveCase(guid)).rejects.toMatchObject({ status: 404 });
    expect((await fusion(['case', 'delete', guid])).code).toBe(4);
  });

  it('case attach: re-keys the case (API key); exit 5 when attached already', async () => {
    const { guid } = await t.clients.user.case.createCase({ name: 'Attach me', acs: ['users'] });
    const next = '3f1c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d';
    const attached = await fusion(['case', 'attach', guid, next, '--json']);
    expect(attached.code).toBe(0);
    expect(json(attached.stdout)).toMatchObject({ guid: next, managed: true, name: 'Attach me' });
    const again = await fusion(['case', 'attach', next, '4f1c2d9a-3b1e-4f5a-9c8d-7e6f5a4b3c2d']);
    expect(again.code).toBe(5);
  });
});
