import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { ConfigError, ConfigReader, loadSslConfig } from '../../src/helper/config.js';
import { FusionError } from '../../src/helper/errors.js';
import { parseText } from '../../src/helper/serializing.js';
import { expectDocumentedExample } from './docs-example.js';

/** Self-signed test certificate for 127.0.0.1 / localhost (test fixture, valid until 2126). */
const CERT = `-----BEGIN CERTIFICATE-----
MIIBoDCCAUWgAwIBAgIUO02GGHCuat83Fc4XyHHCHhNEAbAwCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLZnVzaW9uLXRlc3QwIBcNMjYxMTIxMDg0MTU3WhgPMjEyNjEw
MjgwODQxNTdaMBYxFDASBgNVBAMMC2Z1c2lvbi10ZXN0MFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEmdzWTXOPEw27ifL5632IQNHtH7PbwPh0+AiDbrBnCjdE6mrc
gzepX4OHyk8xZTLh6XZ6gKGJM7bXoraUuabey6NvMG0wHQYDVR0OBBYEFEVKJyYQ
GIPLQwdPLM7dttUwEJitMB8GA1UdIwQYMBaAFEVKJyYQGIPLQwdPLM7dttUwEJit
MA8GA1UdEwEB/wQFMAMBAf8wGgYDVR0RBBMwEYcEfwAAAYIJbG9jYWxob3N0MAoG
CCqGSM49BAMCA0kAMEYCIQDeo35HNzlDYSJ7cz1AmukO1sokFYcfuKd92Khyd4qj
rwIhAObAkirw5OdS6tTCRa/4IH6EfY37XkV4HWO+aASNbSR5
-----END CERTIFICATE-----
`;
/** Private key of CERT (test fixture only). */
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg+QR+1dnbrBQP12T/
oN7zN+skLNYgs5Co6hFjEM0Q0IyhRANCAASZ3NZNc48TDbuJ8vnrfYhA0e0fs9vA
+HT4CINusGcKN0TqatyDN6lfg4fKTzFlMuHpdnqAoYkztteitpS5pt7L
-----END PRIVATE KEY-----
`;

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fusion-config-'));
  await mkdir(join(dir, 'certs'));
  await writeFile(join(dir, 'certs', 'ca.pem'), CERT);
  await writeFile(join(dir, 'certs', 'other.pem'), CERT);
  await writeFile(join(dir, 'certs', 'not-a-cert.pem'), 'hello\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('ConfigError', () => {
  it('is a FusionError with code FUSION_ERR_CONFIG, the key, and "key: problem" as message', () => {
    const error = new ConfigError('auth.cookie.max_age', 'expected a positive integer, got "x"');
    expect(error).toBeInstanceOf(FusionError);
    expect(error.code).toBe('FUSION_ERR_CONFIG');
    expect(error.key).toBe('auth.cookie.max_age');
    expect(error.message).toBe('auth.cookie.max_age: expected a positive integer, got "x"');
    expect(error.hint).toMatch(/configuration key/);
  });
});

describe('ConfigReader', () => {
  it('names the full key path in errors', () => {
    const root = new ConfigReader({ auth: { cookie: { max_age: 'x' } } });
    const error = configError(() => root.section('auth').section('cookie').integer('max_age', { min: 1 }));
    expect(error.key).toBe('auth.cookie.max_age');
    expect(error.message).toBe('auth.cookie.max_age: expected a positive integer, got "x"');
  });

  it('names list items by index', () => {
    const root = new ConfigReader({ backend: { basic: { users: [{ username: 'a', digest: 'd' }, { username: 'b' }] } } }, { key: 'auth' });
    const users = root.section('backend').section('basic').list('users');
    expect(users.map((u) => u.string('username'))).toEqual(['a', 'b']);
    expect(users[0]!.string('digest')).toBe('d');
    const error = configError(() => users[1]!.string('digest'));
    expect(error.message).toBe('auth.backend.basic.users[1].digest: is required');
  });

  it('reads typed values, defaults and optionals; null counts as absent', () => {
    const r = new ConfigReader({ name: 'svc', port: 8080, ratio: 0.5, debug: true, tags: ['a', 'b'], empty: null });
    expect(r.string('name')).toBe('svc');
    expect(r.integer('port', { min: 1, max: 65535 })).toBe(8080);
    expect(r.number('ratio', { min: 0, max: 1 })).toBe(0.5);
    expect(r.boolean('debug')).toBe(true);
    expect(r.stringList('tags')).toEqual(['a', 'b']);
    expect(r.string('empty', { default: 'dflt' })).toBe('dflt');
    expect(r.optionalString('missing')).toBeUndefined();
    expect(r.optionalInteger('missing')).toBeUndefined();
    expect(r.optionalBoolean('empty')).toBeUndefined();
    expect(r.integer('timeout', { default: 30 })).toBe(30);
    expect(r.stringList('missing')).toEqual([]);
    expect(r.has('empty')).toBe(false);
    expect(r.has('name')).toBe(true);
    expect(configError(() => r.integer('missing')).message).toBe('missing: is required');
  });

  it.each([
    [{ v: 1.5 }, (r: ConfigReader) => r.integer('v'), 'v: expected an integer, got 1.5'],
    [{ v: -1 }, (r: ConfigReader) => r.integer('v', { min: 0 }), 'v: expected a non-negative integer, got -1'],
    [{ v: 0 }, (r: ConfigReader) => r.integer('v', { min: 1, max: 10 }), 'v: expected an integer between 1 and 10, got 0'],
    [{ v: 11 }, (r: ConfigReader) => r.number('v', { max: 10 }), 'v: expected a number <= 10, got 11'],
    [{ v: '8080' }, (r: ConfigReader) => r.integer('v'), 'v: expected an integer, got "8080"'],
    [{ v: 'yes' }, (r: ConfigReader) => r.boolean('v'), 'v: expected true or false, got "yes"'],
    [{ v: 42 }, (r: ConfigReader) => r.string('v'), 'v: expected a string, got 42'],
    [{ v: '' }, (r: ConfigReader) => r.string('v', { minLength: 1 }), 'v: expected a non-empty string, got ""'],
    [{ v: 'ab' }, (r: ConfigReader) => r.string('v', { pattern: /^\d+$/ }), 'v: expected a string matching /^\\d+$/, got "ab"'],
    [{ v: { a: 1 } }, (r: ConfigReader) => r.string('v'), 'v: expected a string, got a mapping'],
    [{ v: ['a', 3] }, (r: ConfigReader) => r.stringList('v'), 'v[1]: expected a string, got 3'],
    [{ v: 'a' }, (r: ConfigReader) => r.stringList('v'), 'v: expected a list of strings, got "a"'],
    [{ v: [1] }, (r: ConfigReader) => r.section('v'), 'v: expected a mapping, got a list'],
    [{ v: {} }, (r: ConfigReader) => r.list('v'), 'v: expected a list, got a mapping'],
    [{ v: ['x'] }, (r: ConfigReader) => r.list('v'), 'v[0]: expected a mapping, got "x"'],
    [{ v: 'bsaic' }, (r: ConfigReader) => r.oneOf('v', ['basic', 'oidc']), 'v: expected one of "basic", "oidc", got "bsaic"; did you mean `basic`?'],
  ])('rejects %j with a clear message', (data, read, message) => {
    expect(configError(() => read(new ConfigReader(data))).message).toBe(message);
  });

  it('refuses a document that is not a mapping', () => {
    expect(configError(() => new ConfigReader(['a'])).message).toBe('config: expected a mapping, got a list');
    expect(new ConfigReader(null).keys()).toEqual([]);
  });

  it('hides secret values in messages', () => {
    const r = new ConfigReader({ key: 12345 }, { key: 'auth.clients[0]' });
    const error = configError(() => r.string('key', { secret: true, minLength: 16 }));
    expect(error.message).toBe('auth.clients[0].key: expected a non-empty string, got a number (hidden)');
  });

  it('resolves { env: NAME } values from the environment, parsed like the file value', () => {
    const env = { FUSION_KEY: 'k-123', FUSION_PORT: '9090', FUSION_DEBUG: 'yes', FUSION_TAG: 't' };
    const r = new ConfigReader(
      { key: { env: 'FUSION_KEY' }, port: { env: 'FUSION_PORT' }, debug: { env: 'FUSION_DEBUG' }, tags: [{ env: 'FUSION_TAG' }, 'u'] },
      { env },
    );
    expect(r.string('key')).toBe('k-123');
    expect(r.integer('port', { min: 1 })).toBe(9090);
    expect(r.boolean('debug')).toBe(true);
    expect(r.stringList('tags')).toEqual(['t', 'u']);
  });

  it('reports an unset or bad environment variable under the key that names it', () => {
    const r = new ConfigReader({ secret: { env: 'FUSION_NOPE' }, port: { env: 'FUSION_PORT' } }, { env: { FUSION_PORT: 'abc' }, key: 'event' });
    const unset = configError(() => r.string('secret'));
    expect(unset.key).toBe('event.secret');
    expect(unset.message).toBe('event.secret: environment variable FUSION_NOPE is not set (the file says { env: FUSION_NOPE })');
    expect(configError(() => r.integer('port')).message).toBe('event.port: expected an integer, got "abc" from environment variable FUSION_PORT');
  });

  it('falls back to the default of { env: NAME, default: VALUE } when the variable is unset or empty', () => {
    const doc = {
      url: { env: 'FUSION_URL', default: 'memory://' },
      port: { env: 'FUSION_PORT', default: 8080 },
      text_port: { env: 'FUSION_PORT', default: '8081' },
      debug: { env: 'FUSION_DEBUG', default: 'no' },
      flag: { env: 'FUSION_DEBUG', default: true },
      schema: { env: 'FUSION_SCHEMA', default: null },
      tags: [{ env: 'FUSION_TAG', default: 'fallback' }, 'u'],
    };
    const unset = new ConfigReader(doc, { env: { FUSION_TAG: '' } });
    expect(unset.string('url')).toBe('memory://');
    expect(unset.integer('port', { min: 1 })).toBe(8080);
    expect(unset.integer('text_port', { min: 1 })).toBe(8081); // parsed like a variable's value
    expect(unset.boolean('debug')).toBe(false);
    expect(unset.boolean('flag')).toBe(true);
    expect(unset.optionalString('schema')).toBeUndefined(); // null: as if absent
    expect(unset.string('schema', { default: 'public' })).toBe('public');
    expect(unset.stringList('tags')).toEqual(['fallback', 'u']);
    // A set variable wins over the default.
    const set = new ConfigReader(doc, { env: { FUSION_URL: 'pglite://data', FUSION_PORT: '9090', FUSION_DEBUG: 'yes', FUSION_SCHEMA: 'svc', FUSION_TAG: 't' } });
    expect(set.string('url')).toBe('pglite://data');
    expect(set.integer('port')).toBe(9090);
    expect(set.boolean('debug')).toBe(true);
    expect(set.optionalString('schema')).toBe('svc');
    expect(set.stringList('tags')).toEqual(['t', 'u']);
  });

  it('checks the default of { env: NAME, default: VALUE } like a value, naming where it came from', () => {
    const r = new ConfigReader(
      {
        port: { env: 'FUSION_PORT', default: 'abc' },
        secret: { env: 'FUSION_SECRET', default: 42 },
        typo: { env: 'FUSION_X', defualt: 1 },
        nested: { env: 'FUSION_X', default: { a: 1 } },
        required: { env: 'FUSION_X', default: null },
      },
      { env: {}, key: 'event' },
    );
    expect(configError(() => r.integer('port')).message).toBe('event.port: expected an integer, got "abc" (the default of { env: FUSION_PORT }, which is not set)');
    expect(configError(() => r.string('secret', { secret: true })).message).toBe('event.secret: expected a string, got a number (hidden) (the default of { env: FUSION_SECRET }, which is not set)');
    expect(configError(() => r.integer('typo')).message).toBe('event.typo: { env: FUSION_X } takes only `default` besides `env`, got `defualt`; did you mean `default`?');
    expect(configError(() => r.string('nested')).message).toMatch(/^event\.nested: the default of \{ env: FUSION_X \} must be a string, a number, a boolean or null, got /);
    expect(configError(() => r.string('required')).message).toBe('event.required: is required');
  });

  it('reports unknown keys with the closest known one', () => {
    const r = new ConfigReader({ auth: { cookie: { max_agee: 10, secure: true } } });
    const cookie = r.section('auth').section('cookie');
    cookie.integer('max_age', { default: 3600 });
    cookie.boolean('secure');
    const error = configError(() => r.assertNoUnknownKeys());
    expect(error.key).toBe('auth.cookie.max_agee');
    expect(error.message).toBe('auth.cookie.max_agee: unknown key, did you mean `max_age`?');
  });

  it('suggests snake_case for camelCase, lists known keys when nothing is close, and reports all', () => {
    const r = new ConfigReader({ maxAge: 1, zzz: 2, list: [{ nme: 'x' }] }, { key: 'cookie' });
    r.optionalInteger('max_age');
    r.optionalString('path');
    for (const item of r.list('list')) item.optionalString('name');
    expect(r.unknownKeys().map((u) => [u.key, u.suggestion])).toEqual([
      ['cookie.maxAge', 'max_age'],
      ['cookie.zzz', undefined],
      ['cookie.list[0].nme', 'name'],
    ]);
    expect(configError(() => r.assertNoUnknownKeys()).message).toBe(
      'cookie.maxAge: unknown key, did you mean `max_age`? (also unknown: cookie.zzz, cookie.list[0].nme)',
    );
  });

  it('accepts the keys read through raw(), has() and sections, and passes when all are known', () => {
    const r = new ConfigReader({ a: { anything: { goes: 1 } }, b: 1, c: { d: 2 } });
    r.raw('a');
    r.has('b');
    r.section('c').integer('d');
    expect(() => r.assertNoUnknownKeys()).not.toThrow();
    const strict = new ConfigReader({ c: { d: 2, e: 3 } });
    strict.section('c').integer('d');
    expect(configError(() => strict.assertNoUnknownKeys()).message).toBe('c.e: unknown key, known keys: d');
  });

  it('merges what several readers of one section read', () => {
    const r = new ConfigReader({ server: { host: 'h', port: 1 } });
    expect(r.section('server')).toBe(r.section('server'));
    r.section('server').string('host');
    expect(r.unknownKeys().map((u) => u.key)).toEqual(['server.port']);
    r.section('server').integer('port');
    expect(() => r.assertNoUnknownKeys()).not.toThrow();
    expect(r.section('absent').keyOf('x')).toBe('absent.x');
    expect(r.optionalSection('absent')).toBeUndefined();
  });

  it('resolves file paths against the base directory', () => {
    const r = new ConfigReader({ root: 'data/cloud', abs: '/srv/x' }, { baseDir: '/etc/fusion' });
    expect(r.filePath('root')).toBe('/etc/fusion/data/cloud');
    expect(r.filePath('abs')).toBe('/srv/x');
    expect(r.filePath('missing', { default: 'state' })).toBe('/etc/fusion/state');
  });
});

describe('loadSslConfig', () => {
  it('reads true, false and absence', () => {
    expect(loadSslConfig(true)).toEqual({ rejectUnauthorized: true });
    expect(loadSslConfig(undefined)).toEqual({ rejectUnauthorized: true });
    expect(loadSslConfig(false)).toEqual({ rejectUnauthorized: false });
  });

  it('reads a CA file, or a list, relative to the base directory', () => {
    expect(loadSslConfig('certs/ca.pem', { baseDir: dir })).toEqual({ rejectUnauthorized: true, ca: [CERT] });
    expect(loadSslConfig([join(dir, 'certs/ca.pem'), 'certs/other.pem'], { baseDir: dir }).ca).toEqual([CERT, CERT]);
  });

  it('normalizes a pinned fingerprint to the form of X509Certificate.fingerprint256', () => {
    const fingerprint256 = new X509Certificate(CERT).fingerprint256;
    const compact = `sha256:${fingerprint256.replace(/:/g, '').toLowerCase()}`;
    expect(loadSslConfig(compact)).toEqual({ rejectUnauthorized: false, fingerprint: fingerprint256 });
    expect(loadSslConfig(`SHA256:${fingerprint256}`).fingerprint).toBe(fingerprint256);
  });

  it.each([
    [42, 'client.ssl', 'expected true, false, a CA file path, a list of CA file paths or a sha256: fingerprint, got 42'],
    [[], 'client.ssl', 'expected true, false, a CA file path, a list of CA file paths or a sha256: fingerprint, got a list'],
    ['sha256:AB:CD', 'client.ssl', 'expected sha256: followed by 32 hex bytes, got "sha256:AB:CD"'],
    [['certs/ca.pem', 'certs/none.pem'], 'client.ssl[1]', 'cannot read CA file <dir>/certs/none.pem (ENOENT)'],
    ['certs/not-a-cert.pem', 'client.ssl', '<dir>/certs/not-a-cert.pem holds no PEM certificate (BEGIN CERTIFICATE)'],
  ])('rejects %j', (value, key, problem) => {
    const error = configError(() => loadSslConfig(value, { key: 'client.ssl', baseDir: dir }));
    expect(error.key).toBe(key);
    expect(error.message).toBe(`${key}: ${problem.replace('<dir>', dir)}`);
  });

  it('gives options undici accepts: the CA file makes a TLS server trusted', async () => {
    const server: Server = createServer({ cert: CERT, key: KEY }, (_req, res) => res.end('ok'));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const reader = new ConfigReader({ ssl: 'certs/ca.pem' }, { baseDir: dir, key: 'client' });
    const trusted = new Agent({ connect: { ...reader.ssl('ssl') } });
    const strict = new Agent({ connect: { ...reader.ssl('missing') } });
    try {
      const response = await request(url, { dispatcher: trusted });
      expect(await response.body.text()).toBe('ok');
      await expect(request(url, { dispatcher: strict })).rejects.toThrow(/self-signed|self signed/);
    } finally {
      await Promise.all([trusted.close(), strict.close()]);
      await new Promise((done) => server.close(done));
    }
  });
});

describe('docs example (docs/helpers.md, config)', () => {
  it('runs', () => {
    const text = 'auth:\n  cookie:\n    max_age: 3600\n  clients:\n    - name: collector\n      key: { env: COLLECTOR_KEY }\n';
    const env = { COLLECTOR_KEY: 'a-long-random-key' };
    // --- example starts
    const root = new ConfigReader(parseText(text, 'yaml'), { env });
    const auth = root.section('auth');
    const maxAge = auth.section('cookie').integer('max_age', { min: 1, default: 86400 });
    const clients = auth.list('clients').map((c) => ({ name: c.string('name'), key: c.string('key', { secret: true }) }));
    root.assertNoUnknownKeys(); // ConfigError 'auth.cookie.max_agee: unknown key, did you mean `max_age`?'
    // --- example ends
    expect(maxAge).toBe(3600);
    expect(clients).toEqual([{ name: 'collector', key: 'a-long-random-key' }]);
  });

  it('is the one docs/helpers.md shows', () => {
    expectDocumentedExample('tests/helper/config.test.ts', 'config');
  });
});
