/** Identities: the list of known users (GET /api/auth/identities). */
import { defineConcept } from './concept.js';
import { field } from './field.js';
import { Identity } from './identity.js';

/** A list of identities, at most one per username. */
export class Identities extends defineConcept('Identities', {
  identities: field.array(field.concept(Identity)).default([]),
}) {
  /** Adds `identity`, replacing the one with the same username if any; returns `this`. */
  store(identity: Identity): this {
    const index = this.identities.findIndex((known) => known.username === identity.username);
    if (index === -1) this.identities.push(identity);
    else this.identities[index] = identity;
    return this;
  }

  /** The identity named `username`, or undefined. */
  get(username: string): Identity | undefined {
    return this.identities.find((known) => known.username === username);
  }

  /** Removes the identity named `username`; true when there was one. */
  remove(username: string): boolean {
    const index = this.identities.findIndex((known) => known.username === username);
    if (index === -1) return false;
    this.identities.splice(index, 1);
    return true;
  }

  /** The identities, as a new array in insertion order. */
  list(): Identity[] {
    return this.identities.slice();
  }
}
