/**
 * A registry instance in a child process, for the kill -9 test: opens the PostgreSQL schema
 * named by env, adds two connections of user `ghost`, prints `ready <instance id>`, then waits
 * to be killed (it never cleans up).
 */
import { randomUUID } from 'node:crypto';
import { createLogger } from '../../../src/helper/logging.js';
import { ConnectionRegistry } from '../../../src/server/connection/index.js';
import { openStorage } from '../../../src/server/storage/open-storage.js';

const storage = await openStorage(process.env.REGISTRY_PG_URL!, { schema: process.env.REGISTRY_SCHEMA! });
const registry = new ConnectionRegistry({ storage, instanceId: randomUUID(), logger: createLogger({ level: 'silent' }), lease: Number(process.env.REGISTRY_LEASE) });
await registry.start();
await registry.add({ kind: 'rpc', username: 'ghost' });
await registry.add({ kind: 'tcp', username: 'ghost' });
process.stdout.write(`ready ${registry.instanceId}\n`);
setInterval(() => undefined, 60_000);
