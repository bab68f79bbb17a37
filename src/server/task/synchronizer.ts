/**
 * The synchronizer: a singleton task that mirrors every case to a directory (SyncStorage,
 * edf_fusion's layout) every `synchronizer.interval` seconds. Configured by the
 * `synchronizer` section (`enabled`, `directory`, `interval`); run with `fusion task synchronizer`.
 */
import { ConfigReader } from '../../helper/config.js';
import type { FusionConfig } from '../config.js';
import type { FusionHost } from '../host.js';
import { SyncStorage, syncCase } from './sync-storage.js';
import type { SyncOutcome } from './sync-storage.js';
import { defineTask } from './task.js';
import type { FusionTask } from './task.js';

/** The parsed `synchronizer` section. */
export interface SynchronizerConfig {
  /** `enabled` (default true when the section is present). */
  enabled: boolean;
  /** `directory`: where the case folders go (relative to the config file). */
  directory: string;
  /** `interval`: seconds between two passes (default 300). */
  interval: number;
}

/** The `synchronizer` section, or null when absent; ConfigError names a bad key. */
export function readSynchronizerConfig(config: Pick<FusionConfig, 'raw' | 'baseDir'>): SynchronizerConfig | null {
  if (!Object.hasOwn(config.raw, 'synchronizer')) return null;
  const reader = new ConfigReader(config.raw.synchronizer ?? {}, { key: 'synchronizer', baseDir: config.baseDir });
  const parsed = {
    enabled: reader.boolean('enabled', { default: true }),
    directory: reader.filePath('directory'),
    interval: reader.number('interval', { default: 300, min: 1 }),
  };
  reader.assertNoUnknownKeys();
  return parsed;
}

/** Syncs every case of `host` once; returns how many folders each outcome got. */
export async function synchronizeCases(host: Pick<FusionHost, 'storage' | 'caseClass'>, storage: SyncStorage): Promise<Record<SyncOutcome, number>> {
  const counts: Record<SyncOutcome, number> = { created: 0, renamed: 0, updated: 0, unchanged: 0 };
  for (const caseObj of await host.storage.enumerateCases(host.caseClass)) counts[await syncCase(storage, caseObj)]++;
  return counts;
}

/** The `synchronizer` task of `host` (null when the section is absent or disabled). */
export function synchronizerTask(host: Pick<FusionHost, 'storage' | 'caseClass' | 'config'>): FusionTask | null {
  const config = readSynchronizerConfig(host.config);
  if (config === null || !config.enabled) return null;
  const storage = new SyncStorage(config.directory);
  return defineTask({
    name: 'synchronizer',
    on: 'interval',
    interval: config.interval,
    immediate: true,
    singleton: true,
    async run({ logger }) {
      const counts = await synchronizeCases(host, storage);
      logger.info(counts, 'cases synchronized');
    },
  });
}
