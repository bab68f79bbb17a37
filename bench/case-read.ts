/**
 * GET /api/case/:case_guid with an API key on PostgreSQL: a FusionServer as a real service
 * runs it (auth, info and case APIs from the config, log at the environment's level to a file,
 * access lines off; the audit line of every granted request is written)
 * against a bare fastify + knex route running the same query (the document by guid) on the
 * same table and answering the same envelope (same response schema). Both read the cases of
 * one fresh schema, seeded first. Target (DESIGN §7): >= 70% of the bare req/s.
 * Run: `npm run bench -- case-read [--duration 5 --rounds 4 --connections 50]`.
 */
import fastify from 'fastify';
import knex from 'knex';
import { Case } from '../src/concept/index.js';
import { openStorage } from '../src/server/storage/open-storage.js';
import { benchOptions } from './lib/args.js';
import { benchApiKey, benchAuthSection, startFusionServer } from './lib/fusion.js';
import { compareHttp } from './lib/http.js';
import type { HttpRequestSpec, HttpTarget } from './lib/http.js';
import { printHttpSummary } from './lib/http-summary.js';
import { BENCH_PG_URL, dropSchema, freshSchemaName } from './lib/postgres.js';
import { sampleLoad } from './lib/stats.js';

/** Cases read in turn (every connection walks the list). */
const CASES = 100;
/** Connections of each server's pool (the framework's default). */
const POOL_MAX = 10;

/** A case as a service stores one: a few hundred bytes of text, acs, a webhook. */
function sampleCase(i: number): Case {
  return new Case({
    name: `incident ${i}`,
    description: `Suspicious activity seen on host-${i}. `.repeat(12),
    acs: ['analysts', `team-${i % 5}`],
    webhooks: [`https://hooks.example.org/case/${i}`],
  });
}

async function seed(schema: string): Promise<string[]> {
  const storage = await openStorage(BENCH_PG_URL, { schema });
  try {
    await storage.migrate();
    const guids: string[] = [];
    for (let i = 0; i < CASES; i++) guids.push((await storage.createCase(sampleCase(i))).guid);
    return guids;
  } finally {
    await storage.close();
  }
}

function bareTarget(schema: string): HttpTarget {
  return {
    name: 'bare fastify + knex',
    async start() {
      const db = knex({ client: 'pg', connection: BENCH_PG_URL, pool: { min: 0, max: POOL_MAX }, searchPath: [schema] });
      const app = fastify({ logger: false });
      const { $schema: _s, $id: _i, ...caseSchema } = Case.jsonSchema({ mode: 'output' });
      const schemas = {
        params: { type: 'object', properties: { case_guid: { type: 'string', format: 'uuid' } }, required: ['case_guid'] },
        response: {
          200: { type: 'object', properties: { status: { type: 'integer' }, data: caseSchema, count: { type: 'integer' } } },
        },
      };
      app.get<{ Params: { case_guid: string } }>('/api/case/:case_guid', { schema: schemas }, async (request, reply) => {
        const row = await db('fusion_case').where({ guid: request.params.case_guid }).first<{ document: Record<string, unknown> } | undefined>('document');
        if (!row) return reply.code(404).send({ status: 404, message: 'not found' });
        return { status: 200, data: row.document, count: Object.keys(row.document).length };
      });
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      return {
        url,
        async close() {
          await app.close();
          await db.destroy();
        },
      };
    },
  };
}

function frameworkTarget(schema: string, apiKey: string): HttpTarget {
  return {
    name: 'FusionServer (auth + info + case)',
    async start() {
      const running = await startFusionServer({
        server: { log_requests: false },
        storage: { url: BENCH_PG_URL, schema, pool_max: POOL_MAX },
        auth: benchAuthSection(apiKey),
        info: { api: 'bench-service' },
        case: {},
      });
      return {
        url: running.url,
        async close() {
          const { logBytes } = await running.close();
          console.log(`framework log file: ${logBytes} bytes (audit lines at the environment's level)`);
        },
      };
    },
  };
}

/** Seeds a fresh schema, runs the comparison, prints the summary; drops the schema. */
export default async function main(args: string[]): Promise<void> {
  const options = benchOptions(args);
  const schema = freshSchemaName('case_read');
  const apiKey = benchApiKey();
  try {
    const guids = await seed(schema);
    const requests: HttpRequestSpec[] = guids.map((guid) => ({
      method: 'GET',
      path: `/api/case/${guid}`,
      headers: { 'x-fusion-api-token': apiKey },
    }));
    console.log(`case-read: ${CASES} cases in schema ${schema} of ${BENCH_PG_URL}, pools of ${POOL_MAX}`);
    const load = sampleLoad();
    const result = await compareHttp({
      baseline: bareTarget(schema),
      candidate: frameworkTarget(schema, apiKey),
      requests,
      rounds: 4,
      ...options,
    });
    printHttpSummary('GET /api/case/:guid (API key, PostgreSQL)', result, load.stop(), 0.7);
  } finally {
    await dropSchema(schema);
  }
}
