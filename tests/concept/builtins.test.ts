import { describe, expect, it } from '@jest/globals';
import {
  AnalysisPriority,
  AnalysisStatus,
  AnalyzerInfo,
  AuthInfo,
  Case,
  Constant,
  Event,
  Identities,
  Identity,
  Info,
  PendingDownloadKey,
  defineConcept,
  field,
} from '../../src/concept/index.js';
import type { AnyConceptClass } from '../../src/concept/index.js';
import { edfFixture } from './fixtures.js';

const fixtures: [string, AnyConceptClass & { fromJSON(data: unknown): { toJSON(): unknown } }][] = [
  ['auth_info', AuthInfo],
  ['case', Case],
  ['constant', Constant],
  ['event', Event],
  ['identity', Identity],
  ['info', Info],
  ['pending_download_key', PendingDownloadKey],
];

describe('edf_fusion fixtures', () => {
  it.each(fixtures)('%s round-trips unchanged', (name, cls) => {
    const doc = edfFixture(name);
    const instance = cls.fromJSON(doc);
    expect(instance).toBeInstanceOf(cls);
    expect(instance.toJSON()).toEqual(doc);
    expect(JSON.stringify(instance)).toBe(JSON.stringify(doc));
  });
});

describe('Identity and Identities', () => {
  it('acs is a Set of username and groups', () => {
    const identity = Identity.fromJSON(edfFixture('identity'));
    expect(identity.acs).toEqual(new Set(['jdoe', 'analysts']));
    expect(new Identity({ username: 'solo' }).acs).toEqual(new Set(['solo']));
  });

  it('stores by username, replacing, and lists', () => {
    const identities = new Identities({});
    identities.store(new Identity({ username: 'a' })).store(new Identity({ username: 'b', groups: ['g'] }));
    identities.store(new Identity({ username: 'a', groups: ['admins'] }));
    expect(identities.list().map((i) => i.username)).toEqual(['a', 'b']);
    expect(identities.get('a')!.groups).toEqual(['admins']);
    expect(identities.get('zz')).toBeUndefined();
    expect(identities.remove('b')).toBe(true);
    expect(identities.remove('b')).toBe(false);
    const wire = identities.toJSON();
    expect(wire).toEqual({ identities: [{ username: 'a', groups: ['admins'] }] });
    const back = Identities.fromJSON(wire);
    expect(back.identities[0]).toBeInstanceOf(Identity);
    expect(back.equals(identities)).toBe(true);
    expect(() => Identities.fromJSON({ identities: [{ username: 'ok' }, { groups: [] }] })).toThrow(
      'Identities.identities[1].username: missing required field',
    );
  });
});

describe('other built-ins', () => {
  it('PendingDownloadKey defaults to a random guid and a 16-byte base64url token', () => {
    const a = new PendingDownloadKey({});
    const b = new PendingDownloadKey();
    expect(a.guid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(a.token, 'base64url')).toHaveLength(16);
    expect(a.guid).not.toBe(b.guid);
    expect(a.token).not.toBe(b.token);
  });

  it('AuthInfo keeps arbitrary JSON parameters', () => {
    const info = AuthInfo.fromJSON({ type: 'oidc', parameters: { issuer: 'https://idp', scopes: ['openid'], n: 1 } });
    expect(info.toJSON()).toEqual({ type: 'oidc', parameters: { issuer: 'https://idp', scopes: ['openid'], n: 1 } });
    expect(new AuthInfo({ type: 'basic' }).parameters).toEqual({});
    expect(() => AuthInfo.fromJSON({ type: 'x', parameters: [] })).toThrow('AuthInfo.parameters: expected object, got array');
  });

  it('AnalyzerInfo defaults version and tags', () => {
    expect(new AnalyzerInfo({ name: 'yara', tags: ['b', 'a', 'a'] }).toJSON()).toEqual({ name: 'yara', version: '', tags: ['a', 'b'] });
  });

  it('Constant and Info require every key', () => {
    expect(() => Constant.fromJSON({ banner: 'x' })).toThrow('Constant.allow_empty_acs: missing required field');
    expect(() => Info.fromJSON({ api: 'x', version: 1 })).toThrow('Info.version: expected string, got 1');
  });

  it('analysis enums hold the wire values and work with field.enumOf', () => {
    expect(Object.values(AnalysisStatus)).toEqual(['pending', 'queued', 'extracting', 'processing', 'success', 'failure']);
    expect(Object.values(AnalysisPriority)).toEqual(['low', 'medium', 'high']);
    const Analysis = defineConcept('Analysis', {
      status: field.enumOf(AnalysisStatus).default(AnalysisStatus.PENDING),
      priority: field.enumOf(AnalysisPriority),
    });
    const analysis = Analysis.fromJSON({ priority: 'high' });
    const status: AnalysisStatus = analysis.status;
    expect(status).toBe('pending');
    expect(() => Analysis.fromJSON({ priority: 'urgent' })).toThrow(
      'Analysis.priority: expected one of "low", "medium", "high", got "urgent"',
    );
  });
});
