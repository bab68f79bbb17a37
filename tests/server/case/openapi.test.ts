import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Case, field } from '../../../src/concept/index.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import type { TestServer } from '../../../src/testing/index.js';
import { createTestServer } from '../../../src/testing/index.js';
import { freshStorage } from '../../helpers/storage.js';
import { silenceAudit } from './helpers.js';

class TimelineCase extends Case.extend('TimelineCase', { color: field.string().default('red') }) {}

interface Schema {
  properties: Record<string, unknown>;
  required?: string[];
}
interface OpenApi {
  paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { $ref: string } }> } }>>;
  components: { schemas: Record<string, Schema> };
}

describe('case routes in the OpenAPI document', () => {
  silenceAudit();
  let storage: KnexStorage;
  let t: TestServer<TimelineCase>;

  beforeAll(async () => {
    storage = await freshStorage('pglite');
    t = await createTestServer({ storage, caseClass: TimelineCase, config: { server: { docs: true } } });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await storage?.close();
  });

  it('lists the six routes with the case class schemas', async () => {
    const doc = (await (await fetch(`${t.baseUrl}/api/openapi.json`)).json()) as OpenApi;
    expect(Object.keys(doc.paths['/api/case/{case_guid}'] ?? {}).sort()).toEqual(['delete', 'get', 'put']);
    expect(Object.keys(doc.paths['/api/cases'] ?? {})).toEqual(['get']);
    expect(Object.keys(doc.paths['/api/case/{case_guid}/attach/{next_case_guid}'] ?? {})).toEqual(['put']);
    const named = (ref: string | undefined): Schema | undefined => doc.components.schemas[(ref ?? '').replace('#/components/schemas/', '')];
    const create = named(doc.paths['/api/case']?.post?.requestBody?.content['application/json']?.schema.$ref);
    expect(create?.required).toEqual(['name']);
    expect(Object.keys(create?.properties ?? {})).toContain('color');
    const update = named(doc.paths['/api/case/{case_guid}']?.put?.requestBody?.content['application/json']?.schema.$ref);
    expect(Object.keys(update?.properties ?? {})).toContain('color');
    expect(update?.required).toBeUndefined();
  });
});
