import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import fastify from 'fastify';
import { request } from 'undici';
import {
  createLogger,
  flushLogs,
  getLogger,
  getRootLogger,
  levelFromEnv,
  setRootLogger,
} from '../../src/helper/logging.js';
import { expectDocumentedExample } from './docs-example.js';

/** A real stream collecting the JSON lines pino writes. */
function capture(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

const tick = () => new Promise((done) => setImmediate(done));

let dir: string;
const savedEnv = { FUSION_DEBUG: process.env.FUSION_DEBUG, FUSION_LOGFILE: process.env.FUSION_LOGFILE };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fusion-logging-'));
});

afterEach(() => {
  setRootLogger(undefined);
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('levelFromEnv', () => {
  it.each([
    [undefined, 'info'],
    ['', 'info'],
    ['0', 'info'],
    ['false', 'info'],
    ['Off', 'info'],
    ['1', 'debug'],
    ['true', 'debug'],
    ['yes please', 'debug'],
    ['warn', 'warn'],
    [' TRACE ', 'trace'],
    ['silent', 'silent'],
  ])('FUSION_DEBUG=%j gives %s', (value, level) => {
    expect(levelFromEnv({ FUSION_DEBUG: value })).toBe(level);
  });
});

describe('createLogger', () => {
  it('writes JSON lines at the requested level with name and redaction', async () => {
    const { lines, stream } = capture();
    const logger = createLogger({ stream, level: 'info', name: 'svc', redact: ['password'] });
    logger.debug('hidden');
    logger.info({ password: 'p', user: 'alice' }, 'login');
    await tick();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, name: 'svc', msg: 'login', user: 'alice', password: '[Redacted]' });
  });

  it('takes its level from the given environment', () => {
    const { stream } = capture();
    expect(createLogger({ stream, env: { FUSION_DEBUG: '1' } }).level).toBe('debug');
    expect(createLogger({ stream, env: {} }).level).toBe('info');
  });

  it('serves as fastify 5 loggerInstance', async () => {
    const { lines, stream } = capture();
    const app = fastify({ loggerInstance: createLogger({ stream, level: 'info' }) });
    app.get('/ping', async (req) => {
      req.log.info({ from: 'handler' }, 'pinged');
      return { ok: true };
    });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const response = await request(`${address}/ping`);
      expect(await response.body.json()).toEqual({ ok: true });
    } finally {
      await app.close();
    }
    const pinged = lines.find((line) => line.msg === 'pinged');
    expect(pinged).toMatchObject({ from: 'handler', level: 30 });
    expect(typeof pinged?.reqId).toBe('string');
    expect(lines.some((line) => line.msg === 'request completed')).toBe(true);
  });
});

describe('getLogger', () => {
  it('returns one child per module of the root logger', async () => {
    const { lines, stream } = capture();
    setRootLogger(createLogger({ stream, level: 'info' }));
    const log = getLogger('server.case');
    expect(getLogger('server.case')).toBe(log);
    log.info('created');
    getLogger('server.auth').warn('refused');
    await tick();
    expect(lines.map((l) => [l.module, l.msg, l.level])).toEqual([
      ['server.case', 'created', 30],
      ['server.auth', 'refused', 40],
    ]);
  });

  it('builds the root from FUSION_DEBUG and appends to FUSION_LOGFILE', async () => {
    const file = join(dir, 'nested', 'app.log');
    process.env.FUSION_DEBUG = 'yes';
    process.env.FUSION_LOGFILE = file;
    setRootLogger(undefined);
    getLogger('first').debug('one');
    await flushLogs();
    setRootLogger(undefined);
    getLogger('second').info('two');
    await flushLogs(getRootLogger());
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.module, l.msg, l.level])).toEqual([
      ['first', 'one', 20],
      ['second', 'two', 30],
    ]);
  });

  it('keeps existing content of the log file', async () => {
    const file = join(dir, 'existing.log');
    await writeFile(file, 'previous line\n');
    const logger = createLogger({ file, level: 'info' });
    logger.info('next');
    await flushLogs(logger);
    const text = await readFile(file, 'utf8');
    expect(text.startsWith('previous line\n')).toBe(true);
    expect(JSON.parse(text.split('\n')[1]!)).toMatchObject({ msg: 'next' });
  });

  it('creates nothing at import time', async () => {
    const file = join(dir, 'import-only.log');
    const tsx = join(process.cwd(), 'node_modules', '.bin', 'tsx');
    const script = "await import('./src/helper/logging.ts'); console.log('imported');";
    const { stdout } = await promisify(execFile)(tsx, ['--eval', script, '--input-type=module'], {
      env: { ...process.env, FUSION_LOGFILE: file },
    });
    expect(stdout.trim()).toBe('imported');
    await expect(access(file)).rejects.toThrow(/ENOENT/);
  });
});

describe('docs example (docs/helpers.md, logging)', () => {
  it('runs', async () => {
    const { lines, stream } = capture();
    // --- example starts
    const logger = createLogger({ stream, name: 'case-service' }); // no stream: FUSION_LOGFILE or stdout
    setRootLogger(logger); // module loggers now share the server's output
    const app = fastify({ loggerInstance: logger });
    const log = getLogger('server.case');
    log.info({ caseGuid: 'c0ffee' }, 'case created'); // {"module":"server.case","caseGuid":"c0ffee",...}
    // --- example ends
    await app.close();
    await tick();
    expect(lines.find((l) => l.msg === 'case created')).toMatchObject({ module: 'server.case', name: 'case-service' });
  });

  it('is the one docs/helpers.md shows', () => {
    expectDocumentedExample('tests/helper/logging.test.ts', 'logging');
  });
});
