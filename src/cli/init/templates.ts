/**
 * The files `fusion init` writes: a service in plain JavaScript (ESM, checked by TypeScript
 * through `// @ts-check` and the package's types), tested with node's own test runner, so the
 * scaffold needs nothing but fusion-framework.
 */

/** The file holding the first user's password (gitignored). */
export const PASSWORD_FILE = '.fusion-password';

/** What the templates are filled with. */
export interface ScaffoldValues {
  /** npm package name of the new service. */
  name: string;
  /** The fusion-framework dependency spec (a version range, or `file:...` for a local tarball). */
  framework: string;
  /** Username of the first user. */
  username: string;
  /** argon2id digest of that user's password. */
  digest: string;
}

/** package.json. */
export function packageJson(v: ScaffoldValues): string {
  const manifest = {
    name: v.name,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: { start: 'fusion serve --config config.yaml', test: 'node --test' },
    engines: { node: '>=22' },
    dependencies: { 'fusion-framework': v.framework },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** src/ticket-case.js: the service's Case subclass. */
export function caseModule(): string {
  return `// @ts-check
/** The service's cases: a Case with a priority (stored, validated, sent on the wire like the built-in fields). */
import { Case, field } from 'fusion-framework/concept';

/** A case of this service. */
export class TicketCase extends Case.extend('TicketCase', {
  priority: field.string().default('normal'),
}) {}
`;
}

/** src/hello-api.js: a service API with one route. */
export function apiModule(): string {
  return `// @ts-check
/** The service's own API: one route, GET /api/hello, for logged-in users and API keys. */
import { FusionAPI } from 'fusion-framework/server';

/** Answers GET /api/hello with a greeting for the caller. */
export class HelloAPI extends FusionAPI {
  name = 'hello';

  /**
   * @param {import('fastify').FastifyInstance} app
   * @param {import('fusion-framework/server').FusionHost} host
   */
  setup(app, host) {
    const { greeting } = /** @type {{ greeting: string }} */ (host.config.extra.hello);
    host.route(app, { method: 'GET', url: '/api/hello', operation: 'hello', summary: 'Greet the caller' }, ({ identity }) => ({
      message: \`\${greeting}, \${identity.username}\`,
    }));
  }
}

/**
 * Parses the \`hello\` config section (a bad key fails at start, naming it).
 * @param {import('fusion-framework/helper').ConfigReader} reader
 */
export function parseHelloConfig(reader) {
  return { greeting: reader.string('greeting', { default: 'Hello' }) };
}
`;
}

/** src/ticket-rpc.js: the service's RPC method. */
export function rpcModule(): string {
  return `// @ts-check
/** The service's RPC methods (JSON-RPC 2.0 over the WebSocket at /api/rpc; the \`rpc\` config section mounts it). */
import { TicketCase } from './ticket-case.js';

/**
 * Declares \`ticket.count\`: how many open tickets the caller may see, of one priority when given.
 * Try it: \`npx fusion rpc call ticket.count '{"priority": "high"}'\`.
 * @param {import('fusion-framework/server').FusionRpcAPI} rpc
 * @param {import('fusion-framework/server').FusionHost} host
 */
export function registerTicketRpc(rpc, host) {
  rpc.method(
    'ticket.count',
    { input: { type: 'object', properties: { priority: { type: 'string' } }, additionalProperties: false } },
    /** @param {import('fusion-framework/server').RpcCall<{ priority?: string }>} call */
    async ({ params, identity }) => {
      const tickets = await host.storage.enumerateCases(TicketCase, { acs: identity.acs });
      return tickets.filter((ticket) => ticket.closed === null && (params.priority === undefined || ticket.priority === params.priority)).length;
    },
  );
}
`;
}

/** src/stale-tickets.js: the service's task. */
export function taskModule(): string {
  return `// @ts-check
/** The service's task: closes the tickets nobody touched for a while (\`npx fusion task close-stale-tickets --config config.yaml\`). */
import { defineTask } from 'fusion-framework/server';
import { TicketCase } from './ticket-case.js';

/** The task's name, as \`fusion task NAME\` takes it. */
export const CLOSE_STALE_TICKETS = 'close-stale-tickets';

/**
 * Parses the \`tickets\` config section (a bad key fails at start, naming it).
 * @param {import('fusion-framework/helper').ConfigReader} reader
 */
export function parseTicketsConfig(reader) {
  return { staleAfterDays: reader.number('stale_after_days', { default: 30, min: 0 }) };
}

/**
 * Every hour, on one instance at a time, closes the open tickets not updated for \`staleAfterDays\`.
 * @param {{ staleAfterDays: number }} settings
 */
export function closeStaleTickets({ staleAfterDays }) {
  return defineTask({
    name: CLOSE_STALE_TICKETS,
    on: 'interval',
    interval: 3600,
    singleton: true,
    async run({ storage, logger, now }) {
      const cutoff = now - staleAfterDays * 86_400_000;
      let closed = 0;
      for (const ticket of await storage.enumerateCases(TicketCase)) {
        if (ticket.closed !== null || (ticket.updated ?? ticket.created).getTime() > cutoff) continue;
        ticket.closed = new Date(now);
        await storage.updateCase(ticket);
        closed++;
      }
      logger.info({ closed }, 'closed stale tickets');
    },
  });
}
`;
}

/** src/service.js: the service module `service.module` names. */
export function serviceModule(): string {
  return `// @ts-check
/** The service module: what this service adds to the framework (config.yaml names it in service.module). */
import { FusionRpcAPI, defineService } from 'fusion-framework/server';
import { HelloAPI, parseHelloConfig } from './hello-api.js';
import { closeStaleTickets, parseTicketsConfig } from './stale-tickets.js';
import { TicketCase } from './ticket-case.js';
import { registerTicketRpc } from './ticket-rpc.js';

export default defineService({
  sections: { hello: parseHelloConfig, tickets: parseTicketsConfig },
  apis: () => [new HelloAPI()],
  caseClass: TicketCase,
  tasks: (config) => [closeStaleTickets(/** @type {{ staleAfterDays: number }} */ (config.extra.tickets))],
  setup(host) {
    // The \`rpc\` section of config.yaml mounts the RPC API; the service adds its methods to it.
    const rpc = host.findApi(FusionRpcAPI);
    if (rpc) registerTicketRpc(rpc, host);
    host.logger.debug({ apis: host.apis.map((api) => api.name) }, 'service ready');
  },
});
`;
}

/** config.yaml. */
export function configYaml(v: ScaffoldValues): string {
  return `# ${v.name}: run with \`npm start\` (fusion serve --config config.yaml).
service:
  module: ./src/service.js
server:
  host: 127.0.0.1
  port: 8080
storage:
  url: pglite://.data/storage     # embedded PostgreSQL; use postgres://... (or --storage-url) in production
info:
  api: ${v.name}
auth:
  backend:
    strategy: basic
    basic:
      users:
        # Replace the digest with the output of \`npx fusion hash-password\`.
        - username: ${v.username}
          digest: "${v.digest}"
          groups: [admins]
  can_delete_acs: [admins]
case: {}
event: {}
rpc: {}                           # JSON-RPC over WebSocket at /api/rpc (src/ticket-rpc.js adds ticket.count)
hello:
  greeting: Hello
tickets:
  stale_after_days: 30            # the close-stale-tickets task closes tickets untouched this long
`;
}

/** test/service.test.js: the scaffold's own test, on the test kit. */
export function serviceTest(): string {
  return `// @ts-check
/** Starts the whole service on a random port with the test kit and calls it with real clients. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FusionRpcClient } from 'fusion-framework/client';
import { FusionTaskRunner } from 'fusion-framework/server';
import { createTestServer } from 'fusion-framework/testing';
import service from '../src/service.js';
import { CLOSE_STALE_TICKETS, closeStaleTickets } from '../src/stale-tickets.js';
import { TicketCase } from '../src/ticket-case.js';

describe('the service', () => {
  /** @type {import('fusion-framework/testing').TestServer<TicketCase>} */
  let t;

  before(async () => {
    t = await createTestServer({
      apis: service.apis(),
      sections: service.sections,
      config: { hello: { greeting: 'Bonjour' }, tickets: { stale_after_days: 0 }, rpc: {} },
      caseClass: TicketCase,
    });
    // What \`fusion serve\` does once the APIs are mounted: the module adds its RPC method.
    await service.setup(t.server);
  });
  after(() => t?.close());

  it('greets a logged-in user and refuses anonymous callers', async () => {
    assert.deepEqual(await t.clients.user.client.get('/api/hello'), { message: 'Bonjour, user' });
    await assert.rejects(t.clients.anonymous.client.get('/api/hello'), { status: 401 });
  });

  it('stores its own kind of case', async () => {
    const created = await t.clients.user.case.createCase({ name: 'first ticket', priority: 'high' });
    assert.equal(created.priority, 'high');
    assert.equal((await t.clients.user.case.retrieveCase(created.guid)).priority, 'high');
  });

  it('counts open tickets over RPC (ticket.count) and names a bad param', async () => {
    const rpc = await FusionRpcClient.connect({ url: t.baseUrl, apiKey: t.apiKey });
    try {
      const before = await rpc.call('ticket.count', { priority: 'urgent' });
      const all = await rpc.call('ticket.count');
      await t.clients.user.case.createCase({ name: 'printer on fire', priority: 'urgent' });
      assert.equal(await rpc.call('ticket.count', { priority: 'urgent' }), Number(before) + 1);
      assert.equal(await rpc.call('ticket.count'), Number(all) + 1);
      await assert.rejects(rpc.call('ticket.count', { colour: 'red' }), { code: 'FUSION_ERR_VALIDATION' });
    } finally {
      await rpc.close();
    }
  });

  it('closes stale tickets (the close-stale-tickets task), and only those', async () => {
    const ticket = await t.clients.user.case.createCase({ name: 'forgotten' });
    const runOnce = async (/** @type {import('fusion-framework/server').FusionTask} */ task) => {
      const runner = new FusionTaskRunner({ storage: t.server.storage }).register(task);
      try {
        assert.equal(await runner.runOnce(CLOSE_STALE_TICKETS), true);
      } finally {
        await runner.stop();
      }
    };
    await runOnce(closeStaleTickets({ staleAfterDays: 1 }));
    assert.equal((await t.clients.user.case.retrieveCase(ticket.guid)).closed, null);
    const [configured] = await service.tasks(t.config); // tickets.stale_after_days: 0
    await runOnce(configured);
    assert.notEqual((await t.clients.user.case.retrieveCase(ticket.guid)).closed, null);
  });
});
`;
}

/** README.md. */
export function readme(v: ScaffoldValues): string {
  return `# ${v.name}

A service built on [fusion-framework](https://www.npmjs.com/package/fusion-framework).

## Two commands

Run it on http://127.0.0.1:8080 (embedded PostgreSQL in \`.data/\`, no database to install):

\`\`\`sh
npm install && npm start
\`\`\`

Run its tests:

\`\`\`sh
npm install && npm test
\`\`\`

## Try it

\`fusion init\` created the user \`${v.username}\` with a random password, kept in \`${PASSWORD_FILE}\`
(not committed; to change it, run \`npx fusion hash-password\` and replace the digest in \`config.yaml\`).

\`\`\`sh
npx fusion login --url http://127.0.0.1:8080 --username ${v.username} < ${PASSWORD_FILE}
npx fusion case create --name "first ticket" --data '{"priority": "high"}'
npx fusion case list
npx fusion info
npx fusion rpc call ticket.count '{"priority": "high"}'
\`\`\`

The task \`close-stale-tickets\` runs in its own process, on its schedule or once. The embedded
PostgreSQL of \`.data/\` serves one process at a time, so stop \`npm start\` first (on a real
PostgreSQL, run it beside the server):

\`\`\`sh
npx fusion task close-stale-tickets --config config.yaml --once
\`\`\`

## Where things are

| file | what |
|---|---|
| \`config.yaml\` | the configuration; \`service.module\` names \`src/service.js\` |
| \`src/service.js\` | the service module: its APIs, Case class, config sections, task, setup (adds the RPC method) |
| \`src/ticket-case.js\` | \`TicketCase\`, the service's Case subclass |
| \`src/hello-api.js\` | \`HelloAPI\`: GET /api/hello |
| \`src/ticket-rpc.js\` | the RPC method \`ticket.count\` (JSON-RPC over WebSocket at /api/rpc) |
| \`src/stale-tickets.js\` | the task \`close-stale-tickets\` (\`npx fusion task close-stale-tickets --config config.yaml\`) |
| \`test/service.test.js\` | the tests (the test kit \`fusion-framework/testing\`, node's test runner) |

The OpenAPI document is at http://127.0.0.1:8080/api/openapi.json.
`;
}

/** .gitignore. */
export function gitignore(): string {
  return `node_modules/\n.data/\n${PASSWORD_FILE}\n`;
}
