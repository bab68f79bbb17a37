/**
 * GET /api/cases without limit (edf_fusion clients): the whole list, read in batches and sent
 * as a chunked body, byte for byte the JSON of the whole envelope; visibility holds across
 * batches, and an enumerate step that ignores paging still gives the whole list.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Case } from '../../../src/concept/index.js';
import { FusionCaseAPI } from '../../../src/server/case/impl.js';
import type { EnumerateCasesContext } from '../../../src/server/case/context.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import type { TestServer } from '../../../src/testing/index.js';
import { freshStorage } from '../../helpers/storage.js';
import { silenceAudit, startCaseServer } from './helpers.js';

const TOTAL = 620; // more than two batches of the server (250)

/** GET `path` with plain node:http: status, headers, body text and how many chunks it came in. */
function get(baseUrl: string, path: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; text: string; chunks: number }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, baseUrl), { headers }, (res) => {
      let text = '';
      let chunks = 0;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        chunks += 1;
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, chunks }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Every case by pages of 1000, as the paged API gives them. */
async function paged(t: TestServer, headers: Record<string, string>): Promise<unknown[]> {
  const data: unknown[] = [];
  let cursor: string | null = null;
  do {
    const answer = await get(t.baseUrl, `/api/cases?limit=1000${cursor === null ? '' : `&cursor=${cursor}`}`, headers);
    const body = JSON.parse(answer.text) as { data: unknown[]; next: string | null };
    data.push(...body.data);
    cursor = body.next;
  } while (cursor !== null);
  return data;
}

describe('GET /api/cases, whole list', () => {
  silenceAudit();
  let storage: KnexStorage;
  let t: TestServer;

  beforeAll(async () => {
    storage = await freshStorage('pglite');
    for (let i = 0; i < TOTAL; i++) {
      await storage.createCase(Case.fromJSON({ name: `listed ${i} \u00e9\u2028"q"`, description: 'x'.repeat(i % 50), acs: [i % 4 === 0 ? 'outsiders' : 'soc'] }));
    }
    t = await startCaseServer(storage);
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await storage?.close();
  });

  const service = (): Record<string, string> => ({ 'x-fusion-api-token': t.apiKey });

  it('is sent chunked, and is exactly the JSON of the whole envelope', async () => {
    const answer = await get(t.baseUrl, '/api/cases', service());
    expect(answer.status).toBe(200);
    expect(answer.headers['transfer-encoding']).toBe('chunked');
    expect(answer.headers['content-length']).toBeUndefined();
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    const data = await paged(t, service());
    expect(data).toHaveLength(TOTAL);
    expect(answer.text).toBe(JSON.stringify({ status: 200, data, count: TOTAL }));
  });

  it('lists only what a user may see, across batches, and the typed client reads it', async () => {
    const clients = await t.login('bob');
    const cookie = { cookie: `FUSION_SESSION=${clients.client.sessionCookie}` };
    const answer = await get(t.baseUrl, '/api/cases', cookie);
    const body = JSON.parse(answer.text) as { data: { acs: string[] }[]; count: number };
    expect(body.count).toBe(TOTAL - Math.ceil(TOTAL / 4));
    expect(body.data.every((c) => c.acs.includes('soc'))).toBe(true);
    expect(answer.text).toBe(JSON.stringify({ status: 200, data: await paged(t, cookie), count: body.count }));
    expect((await clients.case.enumerateCases()).map((c) => c.guid)).toEqual(body.data.map((c) => (c as unknown as { guid: string }).guid));
  });

  it('answers an empty list as before', async () => {
    const empty = await freshStorage('pglite');
    const bare = await startCaseServer(empty);
    try {
      const answer = await get(bare.baseUrl, '/api/cases', { 'x-fusion-api-token': bare.apiKey });
      expect(answer.text).toBe('{"status":200,"data":[],"count":0}');
    } finally {
      await bare.close();
      await empty.close();
    }
  });

  it('gives the whole list once when an enumerate step ignores paging', async () => {
    class Unpaged extends FusionCaseAPI {
      protected override async enumerateCases(ctx: EnumerateCasesContext<Case>): Promise<Case[]> {
        return ctx.storage.enumerateCases(ctx.caseClass); // no limit, no cursor
      }
    }
    const other = await startCaseServer(storage, { apis: [new Unpaged()] });
    try {
      const answer = await get(other.baseUrl, '/api/cases', { 'x-fusion-api-token': other.apiKey });
      expect(answer.text).toBe(JSON.stringify({ status: 200, data: await paged(t, service()), count: TOTAL }));
    } finally {
      await other.close();
    }
  });
});
