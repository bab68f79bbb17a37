/**
 * The hostile-input run over the RPC WebSocket: malformed frames, wrong types, deep nesting,
 * prototype keys, bad GUIDs, NUL and lone surrogates, and unknown methods sent to the built-in
 * case methods. Every answer is an error frame of a client error (never
 * -32603, internal) with a FUSION_ERR_* code when it names a request; the connection stays
 * usable and storage is unchanged.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import { describeStorage } from '../../helpers/storage.js';
import { WsProbe, silenceAudit, startRpcServer } from '../rpc/helpers.js';
import type { ProbeFrame, RpcServer } from '../rpc/helpers.js';
import { storageState } from './storage-state.js';

const deep = (depth: number, open: string, close: string, inner = '1'): string => open.repeat(depth) + inner + close.repeat(depth);
const frame = (id: number, method: string, params: string): string => `{"jsonrpc":"2.0","id":${id},"method":${JSON.stringify(method)},"params":${params}}`;

/** Frames answered with the request's id (the id is the index + 1). */
function hostileCalls(caseGuid: string): [string, (id: number) => string][] {
  return [
    // wrong types
    ['case.create params a string', (id) => frame(id, 'case.create', '"x"')],
    ['case.create case an array', (id) => frame(id, 'case.create', '{"case":[]}')],
    ['case.create name a number', (id) => frame(id, 'case.create', '{"case":{"name":42,"acs":["soc"]}}')],
    ['case.create acs a string', (id) => frame(id, 'case.create', '{"case":{"name":"x","acs":"soc"}}')],
    ['case.update patch null', (id) => frame(id, 'case.update', `{"guid":"${caseGuid}","patch":null}`)],
    ['case.update closed a number', (id) => frame(id, 'case.update', `{"guid":"${caseGuid}","patch":{"closed":5}}`)],
    // 10,000-deep nesting
    ['10,000-deep objects as the case', (id) => frame(id, 'case.create', `{"case":${deep(10_000, '{"a":', '}')}}`)],
    ['10,000-deep arrays in acs', (id) => frame(id, 'case.create', `{"case":{"name":"x","acs":${deep(10_000, '[', ']')}}}`)],
    ['10,000-deep patch', (id) => frame(id, 'case.update', `{"guid":"${caseGuid}","patch":${deep(10_000, '{"a":', '}')}}`)],
    // prototype keys
    ['__proto__ in the case', (id) => frame(id, 'case.create', '{"case":{"name":"x","acs":["soc"],"__proto__":{"admin":true}}}')],
    ['__proto__ holding the case', (id) => frame(id, 'case.create', '{"__proto__":{"case":{"name":"x","acs":["soc"]}}}')],
    ['constructor.prototype in a patch', (id) => frame(id, 'case.update', `{"guid":"${caseGuid}","patch":{"constructor":{"prototype":{"closed":null}}}}`)],
    ['__proto__ in a patch', (id) => frame(id, 'case.update', `{"guid":"${caseGuid}","patch":{"__proto__":{"name":"y"}}}`)],
    // bad GUIDs
    ...['xyz', '../../etc/passwd', `${randomUUID()}x`, '%00', ''].flatMap((guid): [string, (id: number) => string][] => [
      [`case.retrieve ${guid}`, (id) => frame(id, 'case.retrieve', JSON.stringify({ guid }))],
      [`case.delete ${guid}`, (id) => frame(id, 'case.delete', JSON.stringify({ guid }))],
      [`case.update ${guid}`, (id) => frame(id, 'case.update', JSON.stringify({ guid, patch: { name: 'y' } }))],
    ]),
    ['case.retrieve a number', (id) => frame(id, 'case.retrieve', '{"guid":7}')],
    ['case.retrieve params a string', (id) => frame(id, 'case.retrieve', JSON.stringify(caseGuid))],
    ['case.retrieve an unknown case', (id) => frame(id, 'case.retrieve', JSON.stringify({ guid: randomUUID() }))],
    // NUL and lone surrogates
    ...['"a\\u0000b"', '"\\ud800"', '"x\\udc00y"'].flatMap((text): [string, (id: number) => string][] => [
      [`case.create name ${text}`, (id) => frame(id, 'case.create', `{"case":{"name":${text},"acs":["soc"]}}`)],
      [`case.update description ${text}`, (id) => frame(id, 'case.update', `{"guid":"${caseGuid}","patch":{"description":${text}}}`)],
      [`case.retrieve ${text}`, (id) => frame(id, 'case.retrieve', `{"guid":${text}}`)],
    ]),
    // unknown methods
    ...['nope', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'case.__proto__', 'case.', '', 'CASE.RETRIEVE']
      .map((method): [string, (id: number) => string] => [`method ${JSON.stringify(method)}`, (id) => frame(id, method, '{}')]),
  ];
}

/** Frames no id can be read from: answered with id null. */
const MALFORMED = ['{"jsonrpc":"2.0","id":1,"method":', '', 'NaN', '{"jsonrpc":"2.0","id":1,"method":"case.retrieve"}}', deep(10_000, '[', ']'), `{"jsonrpc":"2.0","id":${deep(10_000, '{"a":', '}')},"method":"x"}`];

/** What is wrong with an error frame (null when it is a client error naming its cause). */
function problemOf(what: string, answer: ProbeFrame): string | null {
  const got = `${what}: got ${JSON.stringify(answer).slice(0, 200)}`;
  if (answer.error === undefined) return `${got} (not an error)`;
  if (answer.error.code === -32603) return `${got} (internal error)`;
  if (typeof answer.error.message !== 'string' || answer.error.message.length === 0) return `${got} (no message)`;
  if (answer.error.data !== undefined && !/^FUSION_ERR_[A-Z_]+$/.test(answer.error.data.code)) return `${got} (no FUSION_ERR_ code)`;
  return null;
}

describeStorage('hostile frames over the RPC WebSocket', (getStorage) => {
  silenceAudit();
  let t: RpcServer;
  let p: WsProbe;
  let caseGuid: string;
  let before: Record<string, unknown[]>;

  beforeAll(async () => {
    // The call rate is not under test here: every hostile call must be answered for what it is.
    t = await startRpcServer(getStorage(), { config: { rpc: { rate: 100_000 } } });
    caseGuid = (await t.clients.service.case.createCase({ name: 'existing', acs: ['soc'] })).guid;
    p = await WsProbe.open(t.wsUrl, { 'x-fusion-api-token': t.apiKey });
    before = await storageState(getStorage() as KnexStorage);
  }, 60_000);

  afterAll(async () => {
    await p?.close();
    await t?.close();
  });

  it('answers every hostile call with a client error frame, never an internal one', async () => {
    const problems: string[] = [];
    const calls = hostileCalls(caseGuid);
    for (const [index, [what, make]] of calls.entries()) {
      p.send(make(index + 1));
      const problem = problemOf(what, await p.answer(index + 1));
      if (problem !== null) problems.push(problem);
    }
    for (const text of MALFORMED) {
      const seen = p.frames.length;
      p.send(text);
      const answer = await p.next((f, i = p.frames.indexOf(f)) => i >= seen && f.id === null);
      const problem = problemOf(`malformed ${JSON.stringify(text.slice(0, 40))}`, answer);
      if (problem !== null) problems.push(problem);
    }
    expect(problems).toEqual([]);
  }, 120_000);

  it('keeps the connection usable, with storage unchanged', async () => {
    expect(p.socket.readyState).toBe(p.socket.OPEN);
    const answer = await p.call(100_000, 'case.retrieve', { guid: caseGuid });
    expect(answer).toMatchObject({ result: { guid: caseGuid, name: 'existing' } });
    expect(await storageState(getStorage() as KnexStorage)).toEqual(before);
  });
});
