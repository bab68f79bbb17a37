/** Identity: a user as the auth API sees it (username and groups). */
import { defineConcept } from './concept.js';
import { field } from './field.js';

/** A user: username plus groups; `acs` is what case access control matches against. */
export class Identity extends defineConcept('Identity', {
  username: field.string({ minLength: 1 }),
  groups: field.stringSet().default([]),
}) {
  /** The access-control names of this identity: a new Set of `username` ∪ `groups`. */
  get acs(): Set<string> {
    return new Set([this.username, ...this.groups]);
  }
}
