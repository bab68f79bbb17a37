/** Shared by the case API tests: users, raw HTTP, storage snapshots, quiet audit. */
import { afterAll, beforeAll } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { setAuditSink } from '../../../src/helper/tracing.js';
import type { Case } from '../../../src/concept/index.js';
import type { KnexStorage } from '../../../src/server/storage/knex-storage.js';
import type { FusionStorage } from '../../../src/server/storage/storage.js';
import { createTestServer, mergeConfig } from '../../../src/testing/index.js';
import type { TestServer, TestServerOptions, TestUser } from '../../../src/testing/index.js';
import { freshStorage } from '../../helpers/storage.js';

/** alice (soc, admins: may delete), bob (soc), eve (outsiders). */
export const USERS: TestUser[] = [
  { username: 'alice', password: 'alice-pw', groups: ['soc', 'admins'] },
  { username: 'bob', password: 'bob-pw', groups: ['soc'] },
  { username: 'eve', password: 'eve-pw', groups: ['outsiders'] },
];

/** Starts a test server on `storage` with USERS and can_delete_acs [admins]; `clients.user` is alice. */
export function startCaseServer<C extends Case = Case>(storage: FusionStorage, options: TestServerOptions<C> = {}): Promise<TestServer<C>> {
  return createTestServer<C>({
    users: USERS,
    storage,
    ...options,
    config: mergeConfig({ auth: { can_delete_acs: ['admins'] } }, options.config ?? {}),
  });
}

/** A tag unique to one test, for case names (suites share their storage). */
export function tag(): string {
  return randomBytes(4).toString('hex');
}

/** Keeps the audit lines of this file off the console. */
export function silenceAudit(): void {
  beforeAll(() => setAuditSink({ info: () => undefined, warn: () => undefined }));
  afterAll(() => setAuditSink(undefined));
}

/** A raw HTTP answer with its parsed JSON body. */
export interface RawAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** Sends one request with exactly the given headers and body (no client-side checks). */
export async function raw(
  baseUrl: string,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer; json?: unknown } = {},
): Promise<RawAnswer> {
  const headers = { ...options.headers };
  let body = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] ??= 'application/json';
  }
  const response = await request(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.body.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return { status: response.statusCode, body: parsed };
}

/** Every stored case document, by guid (to check that a refused request changed nothing). */
export async function snapshot(storage: FusionStorage): Promise<Record<string, unknown>> {
  const rows = await storage.knex('fusion_case').select('guid', 'document').orderBy('guid');
  return Object.fromEntries(rows.map((row: { guid: string; document: unknown }) => [row.guid, row.document]));
}

/** The storage, except that updateCase of a case described 'slow edit' waits for `release()`. */
export function gatedStorage(storage: FusionStorage): { storage: FusionStorage; release: () => void; held: Promise<void> } {
  let release!: () => void;
  let onHeld!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const held = new Promise<void>((resolve) => (onHeld = resolve));
  const updateCase = async <C extends Case>(c: C): Promise<C> => {
    if (c.description === 'slow edit') {
      onHeld();
      await gate;
    }
    return storage.updateCase(c);
  };
  const proxy = new Proxy(storage, {
    get(target, property) {
      if (property === 'updateCase') return updateCase;
      const value: unknown = Reflect.get(target, property, target);
      // methods (not own properties such as knex) run on the real storage: it keeps #private state
      return typeof value === 'function' && !Object.hasOwn(target, property) ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { storage: proxy, release, held };
}

/** A case server on a fresh PGlite storage for the file's tests: opened in beforeAll, closed in afterAll. */
export function usePgliteCaseServer(): { readonly server: TestServer; readonly storage: KnexStorage } {
  let storage: KnexStorage | undefined;
  let server: TestServer | undefined;
  beforeAll(async () => {
    storage = await freshStorage('pglite');
    server = await startCaseServer(storage);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await storage?.close();
  });
  return {
    get server(): TestServer {
      if (server === undefined) throw new Error('the case server is not started (did beforeAll fail?)');
      return server;
    },
    get storage(): KnexStorage {
      if (storage === undefined) throw new Error('the storage is not open (did beforeAll fail?)');
      return storage;
    },
  };
}
