/**
 * The registry of API factories by config section: each API folder registers how to build its
 * API from the parsed config (its `section.ts`), and FusionServer.fromConfig builds, in order,
 * the APIs whose sections are present. The server itself knows no built-in API.
 */
import type { FusionAPI } from './api.js';
import type { FusionConfig } from './config.js';

/** How one config section turns into a mounted API. */
export interface ApiSectionFactory {
  /** The config section whose presence mounts the API ('auth', 'case', 'rpc'...). */
  readonly section: string;
  /** Mount order among built-ins, lower first (auth is 10: the others rely on its hooks). */
  readonly order: number;
  /** Builds the API from the parsed config (the section is present when this is called). */
  create(config: FusionConfig): Promise<FusionAPI> | FusionAPI;
}

const factories = new Map<string, ApiSectionFactory>();

/** Registers the factory of a section; registering a section twice replaces the first. */
export function registerApiSection(factory: ApiSectionFactory): void {
  factories.set(factory.section, factory);
}

/** True when the section is present in the document (a section written with no value counts). */
export function hasSection(config: FusionConfig, section: string): boolean {
  return Object.hasOwn(config.raw, section) || (config as unknown as Record<string, unknown>)[section] !== undefined;
}

/** Builds the APIs of the registered sections present in `config`, in their order. */
export async function apisFromSections(config: FusionConfig): Promise<FusionAPI[]> {
  const present = [...factories.values()].filter((factory) => hasSection(config, factory.section)).sort((a, b) => a.order - b.order);
  const apis: FusionAPI[] = [];
  for (const factory of present) apis.push(await factory.create(config));
  return apis;
}
