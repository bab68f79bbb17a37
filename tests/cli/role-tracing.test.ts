// Traces from the CLI roles: an SDK loaded with NODE_OPTIONS="--import ./otel.mjs" (as docs/observability.md says) records `fusion serve`'s request spans and `fusion task`'s run spans.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { request } from 'undici';
import { describeRoles, fusion, until } from './role-helpers.js';

const REGISTER = fileURLToPath(new URL('../fixtures/otel/register.mjs', import.meta.url));

/** A span as the fixture writes it. */
interface SpanLine {
  name: string;
  traceId: string;
  parentSpanId: string | null;
  attributes: Record<string, unknown>;
}

describeRoles('traces of fusion serve and fusion task (SDK loaded by NODE_OPTIONS)', (suite) => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fusion-role-traces-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** The environment of a traced child writing to `file`. */
  const traced = (file: string): Record<string, string> => ({ NODE_OPTIONS: `--import ${REGISTER}`, FUSION_TEST_SPANS_FILE: file });
  const spansIn = async (file: string): Promise<SpanLine[]> =>
    (await readFile(file, 'utf8').catch(() => ''))
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as SpanLine);

  it('fusion serve continues an incoming traceparent in its request span', async () => {
    const file = join(dir, 'serve.jsonl');
    const config = join(dir, 'serve.yaml');
    await writeFile(config, `${(await readFile(suite().config, 'utf8')).replace('server: { log_level: warn }', 'server: { log_level: info }')}info: { api: traced }\n`);
    const server = fusion(['serve', '--config', config, '--host', '127.0.0.1', '--port', '0'], traced(file));
    let baseUrl: string | undefined;
    await until(`fusion serve to listen (stderr: ${server.stderr.slice(-500)})`, () => {
      if (server.process.exitCode !== null) throw new Error(`fusion serve exited: ${server.stderr.slice(-2000)}`);
      baseUrl = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(server.stdout + server.stderr)?.[1];
      return baseUrl !== undefined;
    });
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const parent = 'b7ad6b7169203331';
    const answer = await request(`${baseUrl!}/api/info`, { headers: { traceparent: `00-${traceId}-${parent}-01` } });
    expect(answer.statusCode).toBe(200);
    await answer.body.dump();
    await until('the request span in the file', async () => (await spansIn(file)).some((span) => span.name === 'request' && span.traceId === traceId));
    const span = (await spansIn(file)).find((line) => line.name === 'request' && line.traceId === traceId)!;
    expect(span.parentSpanId).toBe(parent);
    expect(span.attributes).toMatchObject({ 'http.route': '/api/info', 'http.response.status_code': 200 });
    server.process.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  }, 120_000);

  it('fusion task records its run as a fusion.task.run span', async () => {
    const file = join(dir, 'task.jsonl');
    const task = fusion(['task', 'succeed', '--once', '--config', suite().config], traced(file));
    expect(await task.exited).toBe(0);
    const runs = (await spansIn(file)).filter((span) => span.name === 'fusion.task.run');
    expect(runs.map((span) => [span.attributes['fusion.task.name'], span.attributes['fusion.task.attempt'], span.parentSpanId])).toEqual([['succeed', 1, null]]);
  }, 120_000);
});
