/**
 * Test kit of the cloud suites: a real server (createTestServer) with the cloud API on a given
 * storage and driver, users jane, mike (group staff) and eve, and cloud clients for each.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FusionCloudAPIClient } from '../../../src/client/api/cloud.js';
import { setAuditSink } from '../../../src/helper/tracing.js';
import type { FusionStorage } from '../../../src/server/storage/storage.js';
import { openStorage } from '../../../src/server/storage/open-storage.js';
import { S3_TEST_KEYS } from '../../helpers/s3-endpoint.js';
import { TEST_PG_URL, freshStorage } from '../../helpers/storage.js';
import { createTestServer } from '../../../src/testing/create-test-server.js';
import type { TestServer } from '../../../src/testing/create-test-server.js';

/** Users every cloud suite knows. */
export const CLOUD_USERS = [
  { username: 'jane', password: 'jane-password', groups: ['staff'] },
  { username: 'mike', password: 'mike-password', groups: ['staff'] },
  { username: 'eve', password: 'eve-password', groups: [] },
];

/** The roles of the suites (as in docs/cloud.md). */
export const TEST_ROLES = {
  owner: ['CREATE_FILE', 'READ_FILE', 'WRITE_FILE', 'DELETE_FILE', 'CREATE_SUB_DIRECTORY', 'DELETE_SUB_DIRECTORY', 'READ_TREE_DIRECTORY', 'ASSIGN_ROLES'],
  editor: ['CREATE_FILE', 'READ_FILE', 'WRITE_FILE', 'DELETE_FILE', 'READ_TREE_DIRECTORY'],
  viewer: ['READ_FILE', 'READ_TREE_DIRECTORY'],
  member: ['CREATE_SUB_DIRECTORY'],
};

/** The outcome docs/cloud.md states (the S3 suite checks the same on radosgw). */
export const DOCUMENTED_OUTCOME = {
  janeRole: 'owner',
  mikeSees: ['notes.txt'],
  mikeRead: 'meeting at noon',
  mikeWrite: 403,
  mikeDelete: 403,
  anonymousList: 401,
};

/** A running cloud server with a client per user. */
export interface CloudHarness {
  server: TestServer;
  root: string;
  jane: FusionCloudAPIClient;
  mike: FusionCloudAPIClient;
  eve: FusionCloudAPIClient;
  service: FusionCloudAPIClient;
  anonymous: FusionCloudAPIClient;
  /** Audit lines (traceUserOp) written while the harness runs. */
  audit: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Options of startCloud. */
export interface CloudHarnessOptions {
  storage?: FusionStorage;
  /** Merged into the `cloud` section (root defaults to a fresh temp dir). */
  cloud?: Record<string, unknown>;
  /** Other config sections. */
  config?: Record<string, unknown>;
}

/** Starts a server with the cloud API (default role `member`, creator role `owner`). */
export async function startCloud(options: CloudHarnessOptions = {}): Promise<CloudHarness> {
  const audit: Record<string, unknown>[] = [];
  setAuditSink({ info: (fields) => audit.push({ ...fields }), warn: (fields) => audit.push({ ...fields }) });
  const root = await mkdtemp(join(tmpdir(), 'fusion-cloud-'));
  const server = await createTestServer({
    users: CLOUD_USERS,
    ...(options.storage ? { storage: options.storage } : {}),
    config: { ...options.config, cloud: { root: join(root, 'tree'), roles: TEST_ROLES, default_role: 'member', creator_role: 'owner', ...options.cloud } },
  });
  try {
    const as = async (name: string) => new FusionCloudAPIClient({ client: (await server.login(name)).client });
    return {
      server,
      root: join(root, 'tree'),
      jane: await as('jane'),
      mike: await as('mike'),
      eve: await as('eve'),
      service: new FusionCloudAPIClient({ client: server.clients.service.client }),
      anonymous: new FusionCloudAPIClient({ client: server.clients.anonymous.client }),
      audit,
      close: async () => {
        setAuditSink(undefined);
        await server.close();
        await rm(root, { recursive: true, force: true });
      },
    };
  } catch (error) {
    setAuditSink(undefined);
    await server.close();
    await rm(root, { recursive: true, force: true });
    throw error;
  }
}

/** Two instances of one service: one PostgreSQL schema (a storage each) and one S3 bucket. */
export interface S3Pair {
  a: CloudHarness;
  b: CloudHarness;
  close(): Promise<void>;
}

/** Starts instances A and B on a fresh PostgreSQL schema and the S3 `bucket` at `endpoint` (`cloud`: more keys of the cloud section). */
export async function startS3Pair(endpoint: string, bucket: string, config: Record<string, unknown> = {}, extraCloud: Record<string, unknown> = {}): Promise<S3Pair> {
  const storageA = await freshStorage('postgres');
  const opened: { close(): Promise<void> }[] = [storageA];
  const close = async (): Promise<void> => {
    for (const item of opened.reverse()) await item.close();
  };
  try {
    const storageB = await openStorage(TEST_PG_URL, { schema: storageA.schema! });
    opened.push(storageB);
    const cloud = { ...extraCloud, driver: 's3', s3: { endpoint, bucket, ...S3_TEST_KEYS } };
    const a = await startCloud({ storage: storageA, cloud, config });
    opened.push(a);
    const b = await startCloud({ storage: storageB, cloud, config });
    opened.push(b);
    return { a, b, close };
  } catch (error) {
    await close();
    throw error;
  }
}
