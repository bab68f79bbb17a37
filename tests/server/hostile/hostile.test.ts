/**
 * The hostile-input run: against a running server, over real loopback sockets, byte for byte,
 * everything an attacker (or a broken client) sends. Every answer must be a 4xx in the error
 * envelope, never a 5xx; the server stays alive and storage is unchanged.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Case } from '../../../src/concept/index.js';
import type { TestServer } from '../../../src/testing/index.js';
import { describeStorage } from '../../helpers/storage.js';
import { silenceAudit, startCaseServer } from '../case/helpers.js';
import { exchange, head, withBody } from './raw-http.js';
import type { RawExchange, RequestPart } from './raw-http.js';
import { storageState } from './storage-state.js';

type Who = 'alice' | 'eve' | 'service' | 'nobody';

interface Hostile {
  what: string;
  /** The request; `{case}` in a string part is the existing case's guid. */
  parts: (ctx: HostileContext) => RequestPart | RequestPart[];
  /** The exact status expected, when one is; otherwise any 4xx. */
  status?: number;
  code?: string;
}

interface HostileContext {
  caseGuid: string;
  auth: (who: Who) => Record<string, string>;
}

const JSON_TYPE = { 'Content-Type': 'application/json' };
const MB = 1024 * 1024;
/** A forged cursor: base64url of the JSON of `value` (the format the server's own cursors have). */
const cursorOf = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
const deep = (depth: number, open: string, close: string, inner = '1'): string => open.repeat(depth) + inner + close.repeat(depth);

const HOSTILE: Hostile[] = [
  // malformed JSON
  ...['{"name":', '{name: "x"}', "{'name':'x'}", '{"name":"x",}', '{"name":"x"}{"name":"y"}', 'NaN', '{"name":"\\x41"}', '{"name":"x"', '']
    .map((body): Hostile => ({ what: `malformed JSON ${JSON.stringify(body.slice(0, 20))}`, parts: (c) => withBody('POST', '/api/case', body, { ...JSON_TYPE, ...c.auth('alice') }), status: 400 })),
  { what: 'malformed JSON on update', parts: (c) => withBody('PUT', '/api/case/{case}', '{"description":', { ...JSON_TYPE, ...c.auth('alice') }), status: 400 },
  { what: 'malformed JSON on login', parts: () => withBody('POST', '/api/auth/login', '{"username":', JSON_TYPE), status: 400 },
  // wrong types
  ...[{ name: 42 }, { name: null }, { name: ['x'] }, { name: { x: 1 } }, { name: 'x', acs: 'soc' }, { name: 'x', acs: [1, 2] }, { name: 'x', webhooks: 'http://x' }, { name: 'x', managed: 'yes' }, { name: 'x', created: 12 }, { name: 'x', guid: 7 }, [], 'a string', 12, true, null]
    .map((body): Hostile => ({ what: `wrong type ${JSON.stringify(body)}`, parts: (c) => withBody('POST', '/api/case', JSON.stringify(body), { ...JSON_TYPE, ...c.auth('alice') }), status: 400 })),
  ...[{ closed: 5 }, { acs: { a: 1 } }, { description: 3 }, { tsid: [] }]
    .map((body): Hostile => ({ what: `wrong type on update ${JSON.stringify(body)}`, parts: (c) => withBody('PUT', '/api/case/{case}', JSON.stringify(body), { ...JSON_TYPE, ...c.auth('alice') }), status: 400 })),
  { what: 'login with wrong types', parts: () => withBody('POST', '/api/auth/login', JSON.stringify({ username: 1, password: [] }), JSON_TYPE) },
  // 10 MB bodies (with and without Content-Length, with Expect), over the 1 MiB limit
  { what: '10 MB JSON body', parts: (c) => withBody('POST', '/api/case', `{"name":"${'x'.repeat(10 * MB)}"}`, { ...JSON_TYPE, ...c.auth('alice') }), status: 413 },
  { what: '10 MB body on update', parts: (c) => withBody('PUT', '/api/case/{case}', `{"description":"${'x'.repeat(10 * MB)}"}`, { ...JSON_TYPE, ...c.auth('alice') }), status: 413 },
  { what: '10 MB body to a route without a body', parts: (c) => withBody('PUT', `/api/case/{case}/attach/${randomUUID()}`, Buffer.alloc(10 * MB, 0x61), { ...JSON_TYPE, ...c.auth('service') }), status: 413 },
  {
    what: '10 MB chunked body (no Content-Length)',
    parts: (c) => {
      const chunk = Buffer.alloc(MB, 0x61);
      const framed = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
      const lines = ['POST /api/case HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close', 'Content-Type: application/json', 'Transfer-Encoding: chunked'];
      for (const [k, v] of Object.entries(c.auth('alice'))) lines.push(`${k}: ${v}`);
      return [`${lines.join('\r\n')}\r\n\r\n`, ...Array<Buffer>(10).fill(framed), '0\r\n\r\n'];
    },
    status: 413,
  },
  { what: '10 MB sent after Expect: 100-continue', parts: (c) => [head('POST', '/api/case', { ...JSON_TYPE, ...c.auth('alice'), Expect: '100-continue' }, 10 * MB), { pauseMs: 50 }, Buffer.alloc(10 * MB, 0x61)], status: 413 },
  { what: '10 MB login body', parts: () => withBody('POST', '/api/auth/login', `{"username":"${'u'.repeat(10 * MB)}"}`, JSON_TYPE), status: 413 },
  // 10,000-deep nesting
  { what: '10,000-deep arrays', parts: (c) => withBody('POST', '/api/case', deep(10_000, '[', ']'), { ...JSON_TYPE, ...c.auth('alice') }), status: 400 },
  { what: '10,000-deep objects in a field', parts: (c) => withBody('POST', '/api/case', `{"name":"x","acs":${deep(10_000, '{"a":', '}')}}`, { ...JSON_TYPE, ...c.auth('alice') }), status: 400 },
  { what: '10,000-deep objects on update', parts: (c) => withBody('PUT', '/api/case/{case}', deep(10_000, '{"a":', '}'), { ...JSON_TYPE, ...c.auth('alice') }), status: 400 },
  { what: '10,000-deep login', parts: () => withBody('POST', '/api/auth/login', deep(10_000, '{"username":', '}'), JSON_TYPE) },
  // prototype keys
  ...['{"name":"x","__proto__":{"admin":true}}', '{"name":"x","constructor":{"prototype":{"admin":true}}}', '{"__proto__":{"name":"x"}}', '{"name":"x","acs":["soc"],"prototype":1}', '{"name":"x","ext":{"__proto__":{"polluted":1}}}']
    .map((body): Hostile => ({ what: `prototype key ${body}`, parts: (c) => withBody('POST', '/api/case', body, { ...JSON_TYPE, ...c.auth('alice') }), status: 400 })),
  { what: 'prototype key on update', parts: (c) => withBody('PUT', '/api/case/{case}', '{"__proto__":{"closed":null}}', { ...JSON_TYPE, ...c.auth('alice') }), status: 400 },
  // bad GUIDs
  ...['xyz', '12345', '00000000-0000-0000-0000-00000000000g', '{00000000-0000-0000-0000-000000000000}', `${randomUUID()}x`, '%20', '%00', 'null', 'undefined', '-1', `${randomUUID()}%00`]
    .flatMap((guid): Hostile[] => [
      { what: `bad GUID GET ${guid}`, parts: (c) => head('GET', `/api/case/${guid}`, c.auth('alice')), status: 400 },
      { what: `bad GUID DELETE ${guid}`, parts: (c) => head('DELETE', `/api/case/${guid}`, c.auth('alice')), status: 400 },
      { what: `bad GUID events ${guid}`, parts: (c) => head('GET', `/api/events/case/${guid}`, c.auth('alice')), status: 400 },
      { what: `bad next GUID attach ${guid}`, parts: (c) => head('PUT', `/api/case/{case}/attach/${guid}`, c.auth('service')), status: 400 },
    ]),
  { what: 'unknown case', parts: (c) => head('GET', `/api/case/${randomUUID()}`, c.auth('alice')), status: 404 },
  // NUL and lone surrogates
  ...['"a\\u0000b"', '"\\u0000"', '"\\ud800"', '"x\\udc00y"', '"\\udbff\\udbff"']
    .flatMap((text): Hostile[] => [
      { what: `create name ${text}`, parts: (c) => withBody('POST', '/api/case', `{"name":${text},"acs":["soc"]}`, { ...JSON_TYPE, ...c.auth('alice') }), status: 400 },
      { what: `create acs ${text}`, parts: (c) => withBody('POST', '/api/case', `{"name":"x","acs":["soc",${text}]}`, { ...JSON_TYPE, ...c.auth('alice') }), status: 400 },
      { what: `update description ${text}`, parts: (c) => withBody('PUT', '/api/case/{case}', `{"description":${text}}`, { ...JSON_TYPE, ...c.auth('alice') }), status: 400 },
      { what: `login username ${text}`, parts: () => withBody('POST', '/api/auth/login', `{"username":${text},"password":"x"}`, JSON_TYPE) },
    ]),
  { what: 'raw NUL byte in a JSON string', parts: (c) => withBody('POST', '/api/case', Buffer.from('{"name":"a\u0000b"}', 'utf8'), { ...JSON_TYPE, ...c.auth('alice') }), status: 400 },
  { what: 'invalid UTF-8 in the body', parts: (c) => withBody('POST', '/api/case', Buffer.from([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]), { ...JSON_TYPE, ...c.auth('alice') }), status: 400 },
  { what: 'NUL in a header value', parts: () => `GET /api/cases HTTP/1.1\r\nHost: x\r\nX-Fusion-API-Token: a\u0000b\r\nConnection: close\r\n\r\n`, status: 400 },
  { what: 'percent-encoded lone surrogate in the path', parts: (c) => head('GET', '/api/case/%ED%A0%80', c.auth('alice')), status: 400 },
  // huge strings (where they are refused: URL, headers, cookies, wrong places)
  { what: 'huge path parameter', parts: (c) => head('GET', `/api/case/${'a'.repeat(5000)}`, c.auth('alice')), status: 414 },
  { what: 'huge query string', parts: (c) => head('GET', `/api/cases?x=${'a'.repeat(100_000)}`, c.auth('alice')), status: 431 },
  { what: 'huge header', parts: () => head('GET', '/api/cases', { 'X-Junk': 'j'.repeat(100_000) }), status: 431 },
  { what: 'huge cookie', parts: () => head('GET', '/api/cases', { Cookie: `FUSION_SESSION=${'c'.repeat(100_000)}` }), status: 431 },
  { what: 'huge string as acs', parts: (c) => withBody('POST', '/api/case', JSON.stringify({ name: 'x', acs: 'a'.repeat(900_000) }), { ...JSON_TYPE, ...c.auth('alice') }), status: 400 },
  { what: 'huge username at login', parts: () => withBody('POST', '/api/auth/login', JSON.stringify({ username: 'u'.repeat(900_000), password: 'p' }), JSON_TYPE) },
  // wrong content types
  ...['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/octet-stream', 'image/png', 'application/jsonx', 'json', ';;;', 'application/json; charset=utf-16']
    .map((type): Hostile => ({ what: `content type ${type}`, parts: (c) => withBody('POST', '/api/case', '{"name":"x","acs":["soc"]}', { 'Content-Type': type, ...c.auth('alice') }) })),
  { what: 'body without content type', parts: (c) => withBody('POST', '/api/case', '{"name":"x","acs":["soc"]}', c.auth('alice')) },
  // bad cookies and keys
  ...([
    { Cookie: 'FUSION_SESSION=dGhpcyBpcyBub3QgYSBzZXNzaW9u' },
    { Cookie: 'FUSION_SESSION=' },
    { Cookie: 'FUSION_SESSION' },
    { Cookie: `FUSION_SESSION=${'%'.repeat(50)}` },
    { Cookie: 'FUSION_SESSION=a; FUSION_SESSION=b' },
    { Cookie: `${'é'.repeat(10)}=x` },
    { Cookie: ';;;;=;=;' },
    { 'X-Fusion-API-Token': 'wrong-key' },
    { 'X-Fusion-API-Token': '' },
    { 'X-Fusion-API-Token': 'k'.repeat(4000) },
    { Authorization: 'Basic !!!!' },
    { Authorization: 'Bearer x.y.z' },
  ] as Record<string, string>[]).flatMap((headers): Hostile[] => [
    { what: `GET with ${JSON.stringify(headers).slice(0, 60)}`, parts: () => head('GET', '/api/cases', headers), status: 401 },
    { what: `POST with ${JSON.stringify(headers).slice(0, 60)}`, parts: () => withBody('POST', '/api/case', '{"name":"x","acs":["soc"]}', { ...JSON_TYPE, ...headers }), status: 401 },
  ]),
  // traversal in params
  ...['../../etc/passwd', '..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '..\\..\\windows', '%252e%252e%252f', '....//....//etc']
    .flatMap((bad): Hostile[] => [
      { what: `traversal case ${bad}`, parts: (c) => head('GET', `/api/case/${bad}`, c.auth('alice')) },
      { what: `traversal download ${bad}`, parts: () => head('GET', `/api/download/${bad}/${bad}`) },
      { what: `traversal events ${bad}`, parts: (c) => head('GET', `/api/events/case/${bad}`, c.auth('alice')) },
    ]),
  // unknown methods
  ...['FOO', 'PROPFIND', 'PATCH', 'TRACE', 'OPTIONS', 'CONNECT', 'M-SEARCH', 'BREW', 'get']
    .map((method): Hostile => ({ what: `method ${method}`, parts: (c) => head(method, method === 'CONNECT' ? '127.0.0.1:9' : '/api/cases', c.auth('alice')) })),
  { what: 'garbage request line', parts: () => 'THIS IS NOT HTTP\r\n\r\n' },
  { what: 'request line without a version', parts: () => 'GET /api/cases\r\n\r\n' },
  { what: 'HTTP/2 preface on HTTP/1.1', parts: () => 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' },
  { what: 'bad Content-Length', parts: () => 'POST /api/case HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', status: 400 },
  { what: 'two Content-Lengths', parts: () => 'POST /api/case HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}', status: 400 },
  { what: 'bad chunk size', parts: () => 'POST /api/case HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n', status: 400 },
  { what: 'bad percent-encoding in the URL', parts: (c) => head('GET', '/api/case/%E0%A4%A', c.auth('alice')), status: 400 },
  // paging parameters and forged cursors of list routes (a cursor is opaque: whatever it decodes to must not reach SQL unchecked)
  ...['limit=0', 'limit=1001', 'limit=abc', 'limit=-1', 'limit=1e3', 'limit=1&limit=2', 'cursor=x', 'limit=1&cursor=!!!', 'limit=1&cursor=a&cursor=b', `limit=1&cursor=${'A'.repeat(7000)}`,
    `limit=1&cursor=${cursorOf(['-271821-04-20T00:00:00.000Z', randomUUID()])}`, `limit=1&cursor=${cursorOf(['+275760-09-13T00:00:00.000Z', randomUUID()])}`,
    `limit=1&cursor=${cursorOf(['2026-01-01T00:00:00.000Z', 'not-a-guid'])}`, `limit=1&cursor=${cursorOf(['k', 'alice'])}`, `limit=1&cursor=${Buffer.from('{"__proto__":[1,2]}').toString('base64url')}`]
    .map((query): Hostile => ({ what: `case list ?${query.slice(0, 60)}`, parts: (c) => head('GET', `/api/cases?${query}`, c.auth('alice')), status: 400 })),
  ...['limit=0', 'limit=x', 'cursor=x', `limit=1&cursor=${cursorOf(['k', 'a\u0000b'])}`, `limit=1&cursor=${cursorOf(['k', '\ud800'])}`, `limit=1&cursor=${cursorOf(['k', 7])}`,
    `limit=1&cursor=${cursorOf(['2026-01-01T00:00:00.000Z', randomUUID()])}`, `limit=1&cursor=${Buffer.from('["k","\u0000"]').toString('base64url')}`]
    .map((query): Hostile => ({ what: `identity list ?${query.slice(0, 60)}`, parts: (c) => head('GET', `/api/auth/identities?${query}`, c.auth('service')), status: 400 })),
  // the routes the hardening added
  { what: 'case webhook secrets of a bad GUID', parts: (c) => head('GET', '/api/events/case/not-a-guid/webhooks', c.auth('alice')), status: 400 },
  { what: 'case webhook secrets of an unknown case', parts: (c) => head('GET', `/api/events/case/${randomUUID()}/webhooks`, c.auth('alice')), status: 404 },
  { what: 'case webhook secrets for an outsider', parts: (c) => head('GET', '/api/events/case/{case}/webhooks', c.auth('eve')), status: 403 },
  { what: 'case webhook secrets without credentials', parts: () => head('GET', '/api/events/case/{case}/webhooks'), status: 401 },
  { what: 'cross-site GET logout', parts: (c) => head('GET', '/api/auth/logout', { ...c.auth('alice'), 'Sec-Fetch-Site': 'cross-site' }), status: 403 },
  { what: 'GET logout from another Origin', parts: (c) => head('GET', '/api/auth/logout', { ...c.auth('alice'), Origin: 'https://evil.example' }), status: 403 },
  { what: '10 MB POST logout', parts: (c) => withBody('POST', '/api/auth/logout', Buffer.alloc(10 * MB, 0x61), { ...JSON_TYPE, ...c.auth('alice') }), status: 413 },
  // Last-Event-ID that no event ever had
  ...['abc', '-1', '1e3', '99999999999999999999', '9223372036854775808', '0x10', '1 2', '\u00e9']
    .map((id): Hostile => ({ what: `Last-Event-ID ${id}`, parts: (c) => head('GET', '/api/events/case/{case}', { ...c.auth('alice'), 'Last-Event-ID': id }), status: 400 })),
  { what: 'last_event_id query of another shape', parts: (c) => head('GET', '/api/events/case/{case}?last_event_id=1&last_event_id=x', c.auth('alice')), status: 400 },
  // partial bodies and slow headers (answered once body_idle_timeout / request_timeout pass)
  { what: 'partial body, then silence', parts: (c) => [head('POST', '/api/case', { ...JSON_TYPE, ...c.auth('alice') }, 100), '{"name":', 'hold'], status: 408 },
  { what: 'partial chunked body, then silence', parts: (c) => [head('POST', '/api/case', { ...JSON_TYPE, ...c.auth('alice'), 'Transfer-Encoding': 'chunked' }).replace('Connection: close\r\n', ''), '5\r\n{"nam\r\n', 'hold'], status: 408 },
  { what: 'slow headers', parts: () => ['GET /api/cases HTTP/1.1\r\nHost: x\r\n', 'hold'], status: 408 },
  { what: 'a header byte at a time (slowloris)', parts: () => ['GET /api/cases HTTP/1.1\r\n', ...Array.from({ length: 40 }, (_, i): RequestPart[] => [{ pauseMs: 100 }, `X-${i}: y\r\n`]).flat(), 'hold'], status: 408 },
];

/** What is wrong with `answer` to `hostile` (null when it is a proper 4xx envelope). */
function problemOf(answer: RawExchange, hostile: Hostile): string | null {
  const got = `${hostile.what}: got ${answer.status} ${answer.body.slice(0, 160)}`;
  if (answer.status < 400 || answer.status > 499) return `${got} (not a 4xx)`;
  if (hostile.status !== undefined && answer.status !== hostile.status) return `${got} (expected ${hostile.status})`;
  const envelope = answer.json;
  if (envelope === null) return `${got} (not JSON)`;
  if (envelope.status !== answer.status || typeof envelope.message !== 'string' || typeof envelope.request_id !== 'string') return `${got} (not the envelope)`;
  if (!/^FUSION_ERR_[A-Z_]+$/.test(String(envelope.code))) return `${got} (no FUSION_ERR_ code)`;
  if (hostile.code !== undefined && envelope.code !== hostile.code) return `${got} (expected ${hostile.code})`;
  return null;
}

describeStorage('hostile input over real sockets', (getStorage) => {
  silenceAudit();
  let t: TestServer;
  let port: number;
  let existing: Case;
  let context: HostileContext;
  let before: Record<string, unknown[]>;

  beforeAll(async () => {
    t = await startCaseServer(getStorage(), {
      config: { server: { request_timeout: 4, body_idle_timeout: 1 }, event: {} },
    });
    port = Number(new URL(t.baseUrl).port);
    existing = await t.clients.user.case.createCase({ name: 'existing', acs: ['soc'] });
    const cookie = `FUSION_SESSION=${t.clients.user.client.sessionCookie}`;
    const eveCookie = `FUSION_SESSION=${(await t.login('eve')).client.sessionCookie}`;
    context = {
      caseGuid: existing.guid,
      auth: (who): Record<string, string> =>
        who === 'alice' ? { Cookie: cookie } : who === 'eve' ? { Cookie: eveCookie } : who === 'service' ? { 'X-Fusion-API-Token': t.apiKey } : {},
    };
    before = await storageState(getStorage());
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  const slow = HOSTILE.filter((h) => h.status === 408);
  const fast = HOSTILE.filter((h) => h.status !== 408);

  it(`answers ${fast.length} hostile requests with a 4xx in the envelope`, async () => {
    const problems: string[] = [];
    for (const hostile of fast) {
      const parts = hostile.parts(context);
      const list = (Array.isArray(parts) ? parts : [parts]).map((part) => (typeof part === 'string' ? part.replaceAll('{case}', existing.guid) : part));
      const answer = await exchange(port, list).catch((error: unknown) => ({ status: 0, headers: {}, body: String(error), json: null, writeError: null }));
      const problem = problemOf(answer, hostile);
      if (problem !== null) problems.push(problem);
    }
    expect(problems).toEqual([]);
  }, 120_000);

  it(`answers ${slow.length} slow or stalled requests with a 408 in the envelope, and closes them`, async () => {
    const answers = await Promise.all(slow.map((hostile) => exchange(port, hostile.parts(context), 30_000)));
    expect(answers.map((answer, i) => problemOf(answer, slow[i]!)).filter((p) => p !== null)).toEqual([]);
  }, 60_000);

  it('is alive afterwards, with storage unchanged', async () => {
    const health = await exchange(port, head('GET', '/api/health'));
    expect(health.status).toBe(200);
    const cases = await t.clients.user.case.enumerateCases();
    expect(cases.map((c) => c.guid)).toEqual([existing.guid]);
    expect(await storageState(getStorage())).toEqual(before);
  });
});
