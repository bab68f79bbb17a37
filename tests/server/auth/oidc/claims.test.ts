/** From claims to Identity: configurable claim names, dotted paths, Keycloak group paths. */
import { describe, expect, it } from '@jest/globals';
import { groupsOf, identityFromClaims, readClaim, usernameOf } from '../../../../src/server/auth/backend/oidc/claims.js';

const names = { usernameClaim: 'preferred_username', groupsClaim: 'groups' };

describe('OIDC claims', () => {
  it('takes the username and groups, removing one leading / of Keycloak group paths', () => {
    const identity = identityFromClaims({ preferred_username: 'alice', groups: ['/soc', '/soc/tier1', 'plain', '/soc'] }, names);
    expect(identity?.toJSON()).toEqual({ username: 'alice', groups: ['plain', 'soc', 'soc/tier1'] });
  });

  it('reads other claim names and dotted paths (Keycloak realm roles), preferring an exact key', () => {
    const claims = { email: 'a@example.org', realm_access: { roles: ['analyst'] }, 'https://ns.example/groups': ['x'] };
    expect(identityFromClaims(claims, { usernameClaim: 'email', groupsClaim: 'realm_access.roles' })?.toJSON()).toEqual({
      username: 'a@example.org',
      groups: ['analyst'],
    });
    expect(groupsOf(claims, 'https://ns.example/groups')).toEqual(['x']);
    expect(readClaim({ 'a.b': 1, a: { b: 2 } }, 'a.b')).toBe(1);
    expect(readClaim({ a: { b: 2 } }, 'a.c')).toBeUndefined();
    expect(readClaim({ a: 'text' }, 'a.length')).toBeUndefined();
  });

  it('gives no identity without a usable username, and ignores unusable groups', () => {
    expect(identityFromClaims({ sub: 'x', groups: ['a'] }, names)).toBeNull();
    expect(usernameOf({ preferred_username: '' }, 'preferred_username')).toBeNull();
    expect(usernameOf({ preferred_username: 42 }, 'preferred_username')).toBeNull();
    expect(usernameOf({ preferred_username: 'x'.repeat(257) }, 'preferred_username')).toBeNull();
    expect(groupsOf({ groups: 'single' }, 'groups')).toEqual(['single']);
    expect(groupsOf({ groups: [1, null, '/', '', 'ok', 'y'.repeat(300)] }, 'groups')).toEqual(['ok']);
    expect(groupsOf({ groups: { a: 1 } }, 'groups')).toEqual([]);
    expect(groupsOf({}, 'groups')).toEqual([]);
  });
});
