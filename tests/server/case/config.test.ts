import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../../src/helper/config.js';
import { readCaseConfig } from '../../../src/server/case/index.js';
import { createTestServer } from '../../../src/testing/index.js';
import type { TestServer } from '../../../src/testing/index.js';
import { describeStorage } from '../../helpers/storage.js';
import { silenceAudit, startCaseServer, tag } from './helpers.js';

describe('case config', () => {
  it('defaults to allowing an empty acs', () => {
    expect(readCaseConfig({})).toEqual({ allowEmptyAcs: true });
    expect(readCaseConfig(null)).toEqual({ allowEmptyAcs: true });
    expect(readCaseConfig({ allow_empty_acs: false })).toEqual({ allowEmptyAcs: false });
  });

  it('names a bad or unknown key', () => {
    expect(() => readCaseConfig({ allow_empty_acs: 'no' })).toThrow(new ConfigError('case.allow_empty_acs', 'expected true or false, got "no"'));
    expect(() => readCaseConfig({ allow_empty_ac: true })).toThrow('case.allow_empty_ac: unknown key, did you mean `allow_empty_acs`?');
    expect(() => readCaseConfig([1])).toThrow(ConfigError);
  });

  it('reads { env: NAME } values', () => {
    expect(readCaseConfig({ allow_empty_acs: { env: 'OPEN' } }, { env: { OPEN: 'false' } })).toEqual({ allowEmptyAcs: false });
  });
});

describeStorage('case.allow_empty_acs: false', (getStorage) => {
  silenceAudit();
  let t: TestServer;

  beforeAll(async () => {
    t = await startCaseServer(getStorage(), { config: { case: { allow_empty_acs: false } } });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('refuses users an empty acs on create and update; API-key clients may', async () => {
    await expect(t.clients.user.case.createCase({ name: `open ${tag()}` })).rejects.toMatchObject({
      status: 400,
      code: 'FUSION_ERR_VALIDATION',
      message: /^Case\.acs: must name at least one user or group/,
    });
    const created = await t.clients.user.case.createCase({ name: `closed-acs ${tag()}`, acs: ['soc'] });
    await expect(t.clients.user.case.updateCase(created.guid, { acs: [] })).rejects.toMatchObject({ status: 400 });
    expect((await t.clients.user.case.updateCase(created.guid, { name: 'renamed' })).acs).toEqual(['soc']);
    expect((await t.clients.service.case.createCase({ name: `mirrored ${tag()}` })).acs).toEqual([]);
  });
});

describe('case section in a server config', () => {
  it('fails at start with the bad key named', async () => {
    await expect(createTestServer({ config: { case: { allow_empty_acs: 1 } } })).rejects.toThrow('case.allow_empty_acs: expected true or false, got 1');
  });
});
