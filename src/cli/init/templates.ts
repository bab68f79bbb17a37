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

/** src/service.js: the service module `service.module` names. */
export function serviceModule(): string {
  return `// @ts-check
/** The service module: what this service adds to the framework (config.yaml names it in service.module). */
import { defineService } from 'fusion-framework/server';
import { HelloAPI, parseHelloConfig } from './hello-api.js';
import { TicketCase } from './ticket-case.js';

export default defineService({
  sections: { hello: parseHelloConfig },
  apis: () => [new HelloAPI()],
  caseClass: TicketCase,
  setup(host) {
    // TODO(rpc): register an RPC method here once fusion-framework ships its RPC module, e.g.
    //   host.findApi('rpc')?.method('ticket.count', async () => ...)
    // TODO(tasks): register a task here once fusion-framework ships its task module, e.g.
    //   host.findApi('tasks')?.task('close-stale-tickets', async () => ...)
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
hello:
  greeting: Hello
`;
}

/** test/service.test.js: the scaffold's own test, on the test kit. */
export function serviceTest(): string {
  return `// @ts-check
/** Starts the whole service on a random port with the test kit and calls it with real clients. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestServer } from 'fusion-framework/testing';
import { HelloAPI, parseHelloConfig } from '../src/hello-api.js';
import { TicketCase } from '../src/ticket-case.js';

describe('the service', () => {
  /** @type {import('fusion-framework/testing').TestServer<TicketCase>} */
  let t;

  before(async () => {
    t = await createTestServer({
      apis: [new HelloAPI()],
      sections: { hello: parseHelloConfig },
      config: { hello: { greeting: 'Bonjour' } },
      caseClass: TicketCase,
    });
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
\`\`\`

## Where things are

| file | what |
|---|---|
| \`config.yaml\` | the configuration; \`service.module\` names \`src/service.js\` |
| \`src/service.js\` | the service module: its APIs, Case class, config sections, setup |
| \`src/ticket-case.js\` | \`TicketCase\`, the service's Case subclass |
| \`src/hello-api.js\` | \`HelloAPI\`: GET /api/hello |
| \`test/service.test.js\` | the tests (the test kit \`fusion-framework/testing\`, node's test runner) |

The OpenAPI document is at http://127.0.0.1:8080/api/openapi.json.
`;
}

/** .gitignore. */
export function gitignore(): string {
  return `node_modules/\n.data/\n${PASSWORD_FILE}\n`;
}
