/** Access-control set arithmetic shared by the authorize pipeline and case access checks. */
import type { Case, Identity } from '../../concept/index.js';

/** True when the two collections share at least one name. */
export function intersects(a: Iterable<string>, b: ReadonlySet<string> | readonly string[]): boolean {
  const other: ReadonlySet<string> = b instanceof Set ? b : new Set(b as readonly string[]);
  for (const name of a) if (other.has(name)) return true;
  return false;
}

/** Case access as edf_fusion: a case with empty `acs` is open, else `identity.acs` must meet it. */
export function identityCanAccessCase(identity: Identity, caseObj: Case): boolean {
  if (caseObj.acs.length === 0) return true;
  return intersects(caseObj.acs, identity.acs);
}
