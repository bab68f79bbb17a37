/**
 * One ConnectionRegistry per server, shared by every API that keeps connections (TCP gateway,
 * RPC). Two registries on one instance would consume each other's payload rows (a registry
 * drains every row addressed to its instance id), so APIs acquire this one instead of making
 * their own; the last API to release it closes it.
 */
import type { FusionHost } from '../host.js';
import { ConnectionRegistry } from './registry.js';
import type { ConnectionRegistryOptions } from './registry.js';

interface Shared {
  registry: ConnectionRegistry;
  started: Promise<void>;
  users: number;
}

const byHost = new WeakMap<FusionHost, Shared>();

/** Tuning of the shared registry (the first API to acquire it decides). */
export type SharedRegistryOptions = Pick<ConnectionRegistryOptions, 'lease' | 'heartbeat' | 'listen'>;

/** The registry of `host` (started on first use, on `host.storage`); pair each call with releaseConnectionRegistry. */
export async function acquireConnectionRegistry(host: FusionHost, options: SharedRegistryOptions = {}): Promise<ConnectionRegistry> {
  let shared = byHost.get(host);
  if (shared === undefined) {
    const registry = new ConnectionRegistry({
      ...options,
      storage: host.storage,
      instanceId: host.instanceId,
      logger: host.logger.child({ module: 'server.connection' }),
    });
    shared = { registry, started: registry.start(), users: 0 };
    byHost.set(host, shared);
  }
  shared.users++;
  try {
    await shared.started;
  } catch (error) {
    await releaseConnectionRegistry(host);
    throw error;
  }
  return shared.registry;
}

/** Gives back the registry of `host`; the last user closes it. */
export async function releaseConnectionRegistry(host: FusionHost): Promise<void> {
  const shared = byHost.get(host);
  if (shared === undefined) return;
  if (--shared.users > 0) return;
  byHost.delete(host);
  await shared.registry.close();
}
