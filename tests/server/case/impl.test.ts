import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { Case } from '../../../src/concept/index.js';
import type { TestClients, TestServer } from '../../../src/testing/index.js';
import { describeStorage } from '../../helpers/storage.js';
import { raw, silenceAudit, snapshot, startCaseServer, tag } from './helpers.js';

describeStorage('FusionCaseAPI routes', (getStorage) => {
  silenceAudit();
  let t: TestServer;
  let alice: TestClients;
  let bob: TestClients;
  let eve: TestClients;
  let service: TestClients;

  beforeAll(async () => {
    t = await startCaseServer(getStorage());
    alice = t.clients.user;
    bob = await t.login('bob');
    eve = await t.login('eve');
    service = t.clients.service;
  }, 60_000);

  afterAll(async () => {
    await t?.close();
  });

  const stored = (guid: string) => getStorage().retrieveCase(Case, guid);

  it('creates a case with server defaults and reads it back, from the API and from storage', async () => {
    const name = `create ${tag()}`;
    const created = await alice.case.createCase({ name, acs: ['soc'], description: 'first' });
    expect(created).toBeInstanceOf(Case);
    expect(created.toJSON()).toMatchObject({ name, acs: ['soc'], description: 'first', managed: false, updated: null, closed: null });
    expect((await alice.case.retrieveCase(created.guid)).equals(created)).toBe(true);
    expect((await stored(created.guid))?.equals(created)).toBe(true);
  });

  it('keeps a guid and created time the client chose, and refuses a taken guid with 409', async () => {
    const guid = randomUUID();
    const created = await alice.case.createCase({ guid, name: `chosen ${tag()}`, created: '2024-11-02T09:30:00+00:00' });
    expect(created.guid).toBe(guid);
    expect(created.toJSON().created).toBe('2024-11-02T09:30:00+00:00');
    const before = await snapshot(getStorage());
    await expect(alice.case.createCase({ guid, name: 'again' })).rejects.toMatchObject({ status: 409, code: 'FUSION_ERR_CASE_EXISTS' });
    expect(await snapshot(getStorage())).toEqual(before);
  });

  it('sets managed from the caller: true for API-key clients, false for users whatever the body says', async () => {
    expect((await service.case.createCase({ name: `svc ${tag()}` })).managed).toBe(true);
    const byUser = await alice.case.createCase({ name: `user ${tag()}`, managed: true });
    expect(byUser.managed).toBe(false);
    expect((await stored(byUser.guid))?.managed).toBe(false);
  });

  it('lists only the cases whose acs is empty or names the caller; API-key clients see all', async () => {
    const t1 = tag();
    const make = (suffix: string, acs: string[]) => service.case.createCase({ name: `${t1} ${suffix}`, acs });
    await make('open', []);
    await make('soc', ['soc']);
    await make('alice', ['alice']);
    await make('bob', ['bob', 'nobody']);
    await make('outsiders', ['outsiders']);
    const seen = async (clients: TestClients) =>
      (await clients.case.enumerateCases())
        .filter((c) => c.name.startsWith(t1))
        .map((c) => c.name.slice(t1.length + 1))
        .sort();
    expect(await seen(alice)).toEqual(['alice', 'open', 'soc']);
    expect(await seen(bob)).toEqual(['bob', 'open', 'soc']);
    expect(await seen(eve)).toEqual(['open', 'outsiders']);
    expect(await seen(service)).toEqual(['alice', 'bob', 'open', 'outsiders', 'soc']);
  });

  it('answers 401 without credentials and with a forged cookie, 403 for a case outside your acs', async () => {
    const secret = await alice.case.createCase({ name: `secret ${tag()}`, acs: ['alice'] });
    for (const call of [
      () => t.clients.anonymous.case.enumerateCases(),
      () => t.clients.anonymous.case.createCase({ name: 'x' }),
      () => t.clients.anonymous.case.retrieveCase(secret.guid),
      () => t.clients.anonymous.case.updateCase(secret.guid, { name: 'x' }),
      () => t.clients.anonymous.case.deleteCase(secret.guid),
      () => t.clients.anonymous.case.attachCase(secret.guid, randomUUID()),
    ]) {
      await expect(call()).rejects.toMatchObject({ status: 401, code: 'FUSION_ERR_UNAUTHORIZED' });
    }
    const forged = await raw(t.baseUrl, 'GET', `/api/case/${secret.guid}`, { headers: { cookie: 'FUSION_SESSION=forged-token-value' } });
    expect(forged).toMatchObject({ status: 401, body: { code: 'FUSION_ERR_UNAUTHORIZED' } });
    const badKey = await raw(t.baseUrl, 'GET', '/api/cases', { headers: { 'x-fusion-api-token': 'not-the-key-0123456789' } });
    expect(badKey.status).toBe(401);
    for (const call of [
      () => eve.case.retrieveCase(secret.guid),
      () => eve.case.updateCase(secret.guid, { name: 'stolen' }),
      () => bob.case.updateCase(secret.guid, { name: 'stolen' }),
    ]) {
      await expect(call()).rejects.toMatchObject({ status: 403, code: 'FUSION_ERR_FORBIDDEN' });
    }
    expect((await stored(secret.guid))?.equals(secret)).toBe(true);
  });

  it('updates with a patch or a whole case document (readonly keys with their values), sets updated', async () => {
    const created = await alice.case.createCase({ name: `update ${tag()}`, acs: ['soc'] });
    const patched = await bob.case.updateCase(created.guid, { description: 'patched', webhooks: ['https://hooks.example/x'] });
    expect(patched.toJSON()).toMatchObject({ description: 'patched', webhooks: ['https://hooks.example/x'], name: created.name });
    expect(patched.updated).toBeInstanceOf(Date);
    const whole = { ...patched.toJSON(), name: 'renamed' }; // as a Python client sends it
    const renamed = await alice.case.updateCase(created.guid, whole);
    expect(renamed.name).toBe('renamed');
    expect(renamed.created).toEqual(created.created);
    expect((await stored(created.guid))?.equals(renamed)).toBe(true);
  });

  it('refuses to change readonly keys, and changes nothing then', async () => {
    const created = await alice.case.createCase({ name: `readonly ${tag()}` });
    const before = await snapshot(getStorage());
    for (const patch of [{ guid: randomUUID() }, { managed: true }, { created: '2020-01-01T00:00:00+00:00' }]) {
      await expect(alice.case.updateCase(created.guid, patch)).rejects.toMatchObject({ status: 400, code: 'FUSION_ERR_CONCEPT_READONLY' });
    }
    expect(await snapshot(getStorage())).toEqual(before);
  });

  it('closes a case, after which PUT answers 409 and storage keeps the closed case', async () => {
    const created = await alice.case.createCase({ name: `close ${tag()}` });
    const closed = await alice.case.closeCase(created.guid);
    expect(closed.closed).toBeInstanceOf(Date);
    const before = await snapshot(getStorage());
    await expect(alice.case.updateCase(created.guid, { name: 'after close' })).rejects.toMatchObject({
      status: 409,
      code: 'FUSION_ERR_CASE_CLOSED',
    });
    await expect(alice.case.updateCase(created.guid, { closed: null })).rejects.toMatchObject({ status: 409 });
    expect(await snapshot(getStorage())).toEqual(before);
    expect((await alice.case.retrieveCase(created.guid)).equals(closed)).toBe(true);
  });

  it('deletes only for names in can_delete_acs; 404 afterwards', async () => {
    const created = await alice.case.createCase({ name: `delete ${tag()}`, acs: ['soc'] });
    await expect(bob.case.deleteCase(created.guid)).rejects.toMatchObject({ status: 403, code: 'FUSION_ERR_FORBIDDEN' });
    expect(await stored(created.guid)).not.toBeNull();
    await alice.case.deleteCase(created.guid);
    expect(await stored(created.guid)).toBeNull();
    await expect(alice.case.retrieveCase(created.guid)).rejects.toMatchObject({ status: 404, code: 'FUSION_ERR_CASE_NOT_FOUND' });
    await expect(alice.case.deleteCase(created.guid)).rejects.toMatchObject({ status: 404 });
  });

  it('attaches a case for API-key clients only: re-keyed, managed, old guid gone', async () => {
    const created = await alice.case.createCase({ name: `attach ${tag()}`, acs: ['soc'] });
    const next = randomUUID();
    await expect(alice.case.attachCase(created.guid, next)).rejects.toMatchObject({ status: 403, code: 'FUSION_ERR_FORBIDDEN' });
    expect((await stored(created.guid))?.equals(created)).toBe(true);
    const attached = await service.case.attachCase(created.guid, next);
    expect(attached.toJSON()).toEqual({ ...created.toJSON(), guid: next, managed: true });
    expect(await stored(created.guid)).toBeNull();
    expect((await bob.case.retrieveCase(next)).equals(attached)).toBe(true);
    await expect(service.case.attachCase(next, randomUUID())).rejects.toMatchObject({ status: 409, code: 'FUSION_ERR_CASE_MANAGED' });
  });

  it('refuses to attach onto a taken guid (409) or an unknown case (404), changing nothing', async () => {
    const a = await alice.case.createCase({ name: `attach-a ${tag()}` });
    const b = await alice.case.createCase({ name: `attach-b ${tag()}` });
    const before = await snapshot(getStorage());
    await expect(service.case.attachCase(a.guid, b.guid)).rejects.toMatchObject({ status: 409, code: 'FUSION_ERR_CASE_EXISTS' });
    await expect(service.case.attachCase(randomUUID(), randomUUID())).rejects.toMatchObject({ status: 404, code: 'FUSION_ERR_CASE_NOT_FOUND' });
    expect(await snapshot(getStorage())).toEqual(before);
  });

  it('answers in the edf_fusion envelope: data and count', async () => {
    const created = await alice.case.createCase({ name: `envelope ${tag()}` });
    const cookie = { cookie: `FUSION_SESSION=${alice.client.sessionCookie}` };
    const one = await raw(t.baseUrl, 'GET', `/api/case/${created.guid.toUpperCase()}`, { headers: cookie });
    expect(one).toEqual({ status: 200, body: { status: 200, data: created.toJSON(), count: 10 } });
    const list = await raw(t.baseUrl, 'GET', '/api/cases', { headers: cookie });
    expect(list.body.count).toBe((list.body.data as unknown[]).length);
    const deleted = await raw(t.baseUrl, 'DELETE', `/api/case/${created.guid}`, { headers: cookie });
    expect(deleted).toEqual({ status: 200, body: { status: 200 } });
  });
});
