/**
 * Username/password logins against argon2 digests from the config
 * (`auth.backend.basic.users[].{username, digest, groups}`, the strings edf_fusion configs hold).
 */
import { AuthInfo, Identity } from '../../../concept/index.js';
import type { ConfigReader } from '../../../helper/config.js';
import { FusionError } from '../../../helper/errors.js';
import { FusionAuthBackend } from './backend.js';
import type { DigestParameters } from './password.js';
import { DIGEST_PARAMETERS, MAX_PASSWORD_LENGTH, digestParameters, dummyDigest, verifyPassword } from './password.js';

export { hashPassword } from './password.js';

/** Longest username accepted at login, in characters. */
export const MAX_USERNAME_LENGTH = 256;

/** One configured user. */
export interface BasicUser {
  username: string;
  digest: string;
  groups: string[];
}

/** Options of BasicAuthBackend (`auth.backend.basic`). */
export interface BasicAuthOptions {
  users: BasicUser[];
}

/** Credentials of a basic login: `{"data": {"username": ..., "password": ...}}`. */
export interface BasicCredentials {
  username: string;
  password: string;
}

/** Reads `data` as basic credentials; throws FusionError FUSION_ERR_VALIDATION naming the bad field. */
export function parseBasicCredentials(data: unknown): BasicCredentials {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new FusionError('FUSION_ERR_VALIDATION', 'data: expected an object with username and password');
  }
  const { username, password } = data as { username?: unknown; password?: unknown };
  if (typeof username !== 'string' || username.length === 0 || username.length > MAX_USERNAME_LENGTH) {
    throw new FusionError('FUSION_ERR_VALIDATION', `data.username: expected a string of 1 to ${MAX_USERNAME_LENGTH} characters`);
  }
  if (typeof password !== 'string' || password.length === 0 || password.length > MAX_PASSWORD_LENGTH) {
    throw new FusionError('FUSION_ERR_VALIDATION', `data.password: expected a string of 1 to ${MAX_PASSWORD_LENGTH} characters`);
  }
  return { username, password };
}

/**
 * Checks passwords with argon2. An unknown username is checked against a dummy digest with
 * the same costs as the configured ones, so it takes as long and answers the same as a
 * wrong password. Groups come from the config, re-read on every request (`isLogged`).
 */
export class BasicAuthBackend extends FusionAuthBackend {
  /** The strategy name. */
  readonly strategy: string = 'basic';
  readonly #users: Map<string, BasicUser>;
  readonly #costs: DigestParameters;
  #dummy: Promise<string> | null = null;

  constructor(options: BasicAuthOptions) {
    super();
    this.#users = new Map(options.users.map((user) => [user.username, { ...user, groups: [...user.groups] }]));
    const first = options.users[0];
    this.#costs = (first && digestParameters(first.digest)) || { ...DIGEST_PARAMETERS };
  }

  /** `{type: 'basic', parameters: {}}`, as edf_fusion. */
  async info(): Promise<AuthInfo> {
    return new AuthInfo({ type: 'basic', parameters: {} });
  }

  /** Verifies `data.password` against the user's digest; null for a wrong password or an unknown user. */
  async login(data: unknown): Promise<Identity | null> {
    const { username, password } = parseBasicCredentials(data);
    const user = this.#users.get(username);
    const digest = user?.digest ?? (await this.#dummyDigest());
    const ok = await verifyPassword(digest, password);
    return ok && user !== undefined ? identityOf(user) : null;
  }

  /** The identity with the groups the config gives now; null once the user is removed. */
  async isLogged(identity: Identity): Promise<Identity | null> {
    const user = this.#users.get(identity.username);
    return user === undefined ? null : identityOf(user);
  }

  /** Checks the credentials' shape (FUSION_ERR_VALIDATION) and returns the username. */
  override loginSubject(data: unknown): string {
    return parseBasicCredentials(data).username;
  }

  /** Computes the dummy digest now rather than on the first unknown-user login. */
  override async start(): Promise<void> {
    await this.#dummyDigest();
  }

  #dummyDigest(): Promise<string> {
    this.#dummy ??= dummyDigest(this.#costs);
    return this.#dummy;
  }
}

function identityOf(user: BasicUser): Identity {
  return new Identity({ username: user.username, groups: user.groups });
}

/** Reads `auth.backend.basic.users`; each digest must be an argon2 PHC string. */
export function parseBasicAuthConfig(reader: ConfigReader): BasicAuthOptions {
  const seen = new Set<string>();
  const users = reader.list('users').map((item) => {
    const username = item.string('username', { minLength: 1 });
    if (username.length > MAX_USERNAME_LENGTH) throw item.error('username', `must be at most ${MAX_USERNAME_LENGTH} characters`);
    if (seen.has(username)) throw item.error('username', `user ${JSON.stringify(username)} is listed twice`);
    seen.add(username);
    const digest = item.string('digest', { minLength: 1, secret: true });
    if (digestParameters(digest) === null) {
      throw item.error('digest', 'expected an argon2 digest ($argon2id$v=19$m=...,t=...,p=...$salt$hash); make one with `fusion hash-password`');
    }
    const groups = [...new Set(item.stringList('groups', { minLength: 1 }))].sort();
    return { username, digest, groups };
  });
  return { users };
}

/** The `basic` strategy for the backend registry. */
export const basicAuthBackendFactory = {
  parseConfig: parseBasicAuthConfig,
  create: (options: BasicAuthOptions): FusionAuthBackend => new BasicAuthBackend(options),
};
