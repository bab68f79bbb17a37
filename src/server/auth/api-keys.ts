/**
 * Service-to-service API keys (`auth.clients[].{name, key}`), matched in constant time: both
 * sides are hashed to a fixed length and every configured key is compared, match or not.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Request header carrying an API key (as edf_fusion). */
export const API_TOKEN_HEADER = 'x-fusion-api-token';

/** One configured API client. */
export interface ApiClient {
  name: string;
  key: string;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Finds the client owning an API key without leaking, through timing, which key came close. */
export class ApiKeyMatcher {
  readonly #clients: { name: string; digest: Buffer }[];

  constructor(clients: readonly ApiClient[]) {
    this.#clients = clients.map((client) => ({ name: client.name, digest: digest(client.key) }));
  }

  /** Number of configured clients. */
  get size(): number {
    return this.#clients.length;
  }

  /** Returns the name of the client whose key is `key`, or null. */
  match(key: string): string | null {
    const candidate = digest(key);
    let found: string | null = null;
    for (const client of this.#clients) {
      // No early exit: the loop costs the same whichever client (if any) matches.
      if (timingSafeEqual(candidate, client.digest) && found === null) found = client.name;
    }
    return found;
  }
}
