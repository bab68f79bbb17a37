import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FusionError } from '../../../src/helper/errors.js';
import { FusionRpcAPI } from '../../../src/server/rpc/impl.js';
import { createTestServer } from '../../../src/testing/index.js';
import type { TestServer } from '../../../src/testing/index.js';
import { silenceAudit } from '../../server/event/helpers.js';
import { runFusion } from '../run-fusion.js';

function declare(rpc: FusionRpcAPI): FusionRpcAPI {
  rpc.method(
    'math.add',
    { input: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'], additionalProperties: false } },
    ({ params }: { params: { a: number; b: number } }) => params.a + params.b,
  );
  rpc.method('whoami', {}, ({ identity, connection }) => ({ username: identity.username, client: connection.clientType }));
  rpc.method('tickets', {}, () => [
    { id: 1, title: 'printer' },
    { id: 2, title: 'vpn', owner: 'ann' },
  ]);
  rpc.method('greeting', {}, () => 'hello');
  rpc.method('count', {}, async function* ({ params }: { params: { n: number } }) {
    for (let i = 0; i < params.n; i++) yield { i };
    return 'counted';
  });
  rpc.method(
    'slow',
    {},
    ({ signal }) =>
      new Promise((resolve) => {
        const timer = setTimeout(resolve, 60_000, 'late');
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve('aborted');
        });
      }),
  );
  rpc.method('fail.notfound', {}, () => {
    throw new FusionError('FUSION_ERR_CASE_NOT_FOUND', 'case 42 not found');
  });
  rpc.method('fail.conflict', {}, () => {
    throw new FusionError('FUSION_ERR_CASE_EXISTS', 'exists already');
  });
  rpc.method('fail.internal', {}, () => {
    throw new Error('secret internals');
  });
  return rpc;
}

describe('fusion rpc call, against a live server', () => {
  silenceAudit();
  let t: TestServer;
  let asService: Record<string, string>;
  const fusion = (args: string[], env: Record<string, string> = asService, stdin?: string) => runFusion(args, { env, ...(stdin === undefined ? {} : { stdin }) });

  beforeAll(async () => {
    t = await createTestServer({ apis: [declare(new FusionRpcAPI())], config: { rpc: {} } });
    asService = { FUSION_URL: t.baseUrl, FUSION_API_KEY: t.apiKey };
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('calls a method with JSON params: a scalar, a record, a list of records as a table; --json', async () => {
    expect(await fusion(['rpc', 'call', 'math.add', '{"a": 2, "b": 40}'])).toMatchObject({ code: 0, stdout: '42\n', stderr: '' });
    expect(await fusion(['rpc', 'call', 'greeting'])).toMatchObject({ code: 0, stdout: 'hello\n' });
    expect(await fusion(['rpc', 'call', 'greeting', '--json'])).toMatchObject({ code: 0, stdout: '"hello"\n' });
    const who = await fusion(['rpc', 'call', 'whoami']);
    expect(who.stdout).toMatch(/^username\s+service$/m);
    expect(who.stdout).toMatch(/^client\s+cli$/m);
    const table = await fusion(['rpc', 'call', 'tickets']);
    expect(table.stdout).toBe('ID  TITLE    OWNER\n1   printer  -\n2   vpn      ann\n');
    expect(JSON.parse((await fusion(['rpc', 'call', 'tickets', '--json'])).stdout)).toEqual([
      { id: 1, title: 'printer' },
      { id: 2, title: 'vpn', owner: 'ann' },
    ]);
  });

  it('--stream prints the items one JSON line each, then the result', async () => {
    const run = await fusion(['rpc', 'call', 'count', '{"n": 3}', '--stream']);
    expect(run).toMatchObject({ code: 0, stdout: '{"i":0}\n{"i":1}\n{"i":2}\ncounted\n' });
  });

  it('uses the session of `fusion login` when no API key is given', async () => {
    const env = { FUSION_URL: t.baseUrl, FUSION_SESSION_FILE: join(tmpdir(), `fusion-cli-rpc-${process.pid}-${Date.now()}.json`) };
    try {
      expect((await fusion(['login', '-u', 'user'], env, 'user-password\n')).code).toBe(0);
      expect((await fusion(['rpc', 'call', 'whoami', '--json'], env)).stdout).toContain('"username": "user"');
    } finally {
      await fusion(['logout'], env);
      await rm(env.FUSION_SESSION_FILE, { force: true });
    }
  });

  it('exit codes by class: 3 without credentials, 4 unknown method, 5 conflict, 6 internal, 8 bad params, 2 bad JSON, 7 unreachable or too slow', async () => {
    const anonymous = await fusion(['rpc', 'call', 'greeting'], { FUSION_URL: t.baseUrl });
    expect(anonymous.code).toBe(3);
    expect(anonymous.stderr).toContain('FUSION_ERR_UNAUTHORIZED');
    const unknown = await fusion(['rpc', 'call', 'no.such.method']);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('FUSION_ERR_RPC_METHOD_NOT_FOUND, JSON-RPC -32601');
    expect((await fusion(['rpc', 'call', 'fail.notfound'])).stderr).toContain('case 42 not found (FUSION_ERR_CASE_NOT_FOUND, JSON-RPC -32004)');
    expect((await fusion(['rpc', 'call', 'fail.notfound'])).code).toBe(4);
    expect((await fusion(['rpc', 'call', 'fail.conflict'])).code).toBe(5);
    const internal = await fusion(['rpc', 'call', 'fail.internal']);
    expect(internal.code).toBe(6);
    expect(internal.stderr).toContain('internal error');
    expect(internal.stderr).not.toContain('secret');
    const invalid = await fusion(['rpc', 'call', 'math.add', '{"a": "two", "b": 1}']);
    expect(invalid.code).toBe(8);
    expect(invalid.stderr).toMatch(/invalid params: .*a/);
    expect(await fusion(['rpc', 'call', 'math.add', '{a: 1'])).toMatchObject({ code: 2, stderr: expect.stringContaining('params: not JSON') });
    expect(await fusion(['rpc', 'call', 'math.add', '42'])).toMatchObject({ code: 2, stderr: expect.stringContaining('expected a JSON object') });
    expect((await fusion(['rpc', 'call', 'greeting', '--timeout', '0'])).code).toBe(2);
    const late = await fusion(['rpc', 'call', 'slow', '--timeout', '0.2']);
    expect(late.code).toBe(7);
    expect(late.stderr).toContain('slow: no answer within 200 ms (FUSION_ERR_TIMEOUT');
    expect((await fusion(['rpc', 'call', 'greeting', '--url', 'http://127.0.0.1:9'])).code).toBe(7);
  });
});
