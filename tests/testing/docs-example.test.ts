import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import type { FastifyInstance } from 'fastify';
import type { ConfigReader } from '../../src/helper/config.js';
import { FusionAPI } from '../../src/server/api.js';
import type { FusionServer } from '../../src/server/server.js';
import { createTestServer } from '../../src/testing/index.js';
import { silenceAudit } from '../server/case/helpers.js';

const THIS_FILE = 'tests/testing/docs-example.test.ts';

/** The lines between `// --- example: NAME starts` and `// --- example: NAME ends` of this file, dedented. */
function example(name: string): string {
  const lines = readFileSync(THIS_FILE, 'utf8').split('\n');
  const start = lines.findIndex((line) => line.trim() === `// --- example: ${name} starts`);
  const end = lines.findIndex((line, i) => i > start && line.trim() === `// --- example: ${name} ends`);
  if (start < 0 || end < 0) throw new Error(`${THIS_FILE}: no markers for example ${name}`);
  const body = lines.slice(start + 1, end);
  const indent = Math.min(...body.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length));
  return body.map((line) => line.slice(indent)).join('\n');
}

// --- example: service api starts
/** The service under test: one route, one config section. */
class GreetingAPI extends FusionAPI {
  readonly name = 'greeting';
  setup(app: FastifyInstance, server: FusionServer): void {
    server.route(app, { method: 'GET', url: '/api/greeting', operation: 'greet' }, ({ identity }) => ({
      hello: identity.username,
      word: (server.config.extra.greeting as { word: string }).word,
    }));
  }
}
const parseGreetingConfig = (reader: ConfigReader) => ({ word: reader.string('word', { default: 'hi' }) });
// --- example: service api ends

describe('docs/testing.md examples', () => {
  silenceAudit();

  it('are shown verbatim', () => {
    const doc = readFileSync('docs/testing.md', 'utf8');
    for (const name of ['three lines', 'service api', 'service test']) expect(doc).toContain(example(name));
  });

  it('three lines', async () => {
    // --- example: three lines starts
    const t = await createTestServer();
    expect((await t.clients.user.case.createCase({ name: 'first case' })).name).toBe('first case');
    await t.close();
    // --- example: three lines ends
  }, 60_000);

  it('a service test', async () => {
    // --- example: service test starts
    const t = await createTestServer({
      apis: [new GreetingAPI()],
      sections: { greeting: parseGreetingConfig },
      config: { greeting: { word: 'salut' } },
      users: [{ username: 'ann', password: 'ann-pw', groups: ['analysts'] }],
    });
    try {
      expect(await t.clients.user.client.get('/api/greeting')).toEqual({ hello: 'ann', word: 'salut' });
      await expect(t.clients.anonymous.client.get('/api/greeting')).rejects.toMatchObject({ status: 401 });
      const ann = await t.login('ann'); // one more client, logged in
      expect((await ann.auth.isLogged())?.groups).toEqual(['analysts']);
    } finally {
      await t.close();
    }
    // --- example: service test ends
  }, 60_000);
});
