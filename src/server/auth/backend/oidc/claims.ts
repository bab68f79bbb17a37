/**
 * From token claims to an Identity: the username from `username_claim`, the groups from
 * `groups_claim`. Keycloak's group mapper with "full group path" gives paths such as `/soc`
 * or `/soc/tier1`: one leading `/` is removed (`soc`, `soc/tier1`), so case `acs` lists
 * hold plain names, as with the basic backend. Inner slashes stay: a subgroup stays distinct.
 */
import { Identity } from '../../../../concept/index.js';

/** Longest username or group name taken from a token, in characters. */
export const MAX_CLAIM_NAME_LENGTH = 256;
/** Most groups taken from one token. */
export const MAX_GROUPS = 1000;

/** Reads claim `name` from `claims`: the key itself, else a dotted path (`realm_access.roles`). */
export function readClaim(claims: Readonly<Record<string, unknown>>, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  if (!name.includes('.')) return undefined;
  let value: unknown = claims;
  for (const part of name.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** The username claim when it is a usable name, else null. */
export function usernameOf(claims: Readonly<Record<string, unknown>>, claim: string): string | null {
  const value = readClaim(claims, claim);
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_CLAIM_NAME_LENGTH ? value : null;
}

/** Group names from the groups claim (a list, or one string), one leading `/` removed; [] when absent. */
export function groupsOf(claims: Readonly<Record<string, unknown>>, claim: string): string[] {
  const value = readClaim(claims, claim);
  const items = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  const groups = new Set<string>();
  for (const item of items.slice(0, MAX_GROUPS)) {
    if (typeof item !== 'string') continue;
    const name = item.startsWith('/') ? item.slice(1) : item;
    if (name.length > 0 && name.length <= MAX_CLAIM_NAME_LENGTH) groups.add(name);
  }
  return [...groups].sort();
}

/** The Identity the claims describe, or null when the username claim is missing or unusable. */
export function identityFromClaims(claims: Readonly<Record<string, unknown>>, names: { usernameClaim: string; groupsClaim: string }): Identity | null {
  const username = usernameOf(claims, names.usernameClaim);
  return username === null ? null : new Identity({ username, groups: groupsOf(claims, names.groupsClaim) });
}
