/** The superjson instance for RPC frames, with every concept class registered by name. */
import SuperJSON from 'superjson';
import type { JsonValue } from './field-base.js';
import { Analysis } from './analysis.js';
import { AnalyzerInfo } from './analyzer-info.js';
import { AuthInfo } from './auth-info.js';
import { Case } from './case.js';
import type { AnyConceptClass } from './concept.js';
import { Concept } from './concept.js';
import { Constant } from './constant.js';
import { Event } from './event.js';
import { Identities } from './identities.js';
import { Identity } from './identity.js';
import { Info } from './info.js';
import { PendingDownloadKey } from './pending-download-key.js';

type Decoder = AnyConceptClass & { fromJSON(data: unknown): Concept };

interface Registry {
  /** class -> name it is registered under */
  readonly names: Map<object, string>;
  /** name -> class that decodes it (the last one registered under that name) */
  readonly classes: Map<string, Decoder>;
  /** constructor -> name of its nearest registered ancestor (null: none) */
  readonly nearest: Map<object, string | null>;
}

const registries = new WeakMap<SuperJSON, Registry>();

function registryOf(serializer: SuperJSON): Registry {
  let registry = registries.get(serializer);
  if (registry === undefined) {
    registry = { names: new Map(), classes: new Map(), nearest: new Map() };
    registries.set(serializer, registry);
  }
  return registry;
}

function nearestName(registry: Registry, ctor: object): string | null {
  let name = registry.nearest.get(ctor);
  if (name === undefined) {
    name = null;
    for (let c: object | null = ctor; c !== null && c !== Concept; c = Object.getPrototypeOf(c) as object | null) {
      const found = registry.names.get(c);
      if (found !== undefined) {
        name = found;
        break;
      }
    }
    registry.nearest.set(ctor, name);
  }
  return name;
}

/**
 * Registers a concept class with a superjson instance (default `fusionSerializer`) under its
 * `conceptName`: its instances travel as their wire form and come back as instances of it.
 * An unregistered subclass travels as its nearest registered ancestor. Registering a second
 * class under a name already taken makes it the one that decodes that name.
 */
export function registerConcept(cls: AnyConceptClass, serializer: SuperJSON = fusionSerializer): void {
  if (typeof cls !== 'function' || !(cls.prototype instanceof Concept)) {
    throw new TypeError('registerConcept expects a concept class (made with defineConcept or extend)');
  }
  const name = cls.conceptName;
  const registry = registryOf(serializer);
  registry.names.set(cls, name);
  registry.classes.set(name, cls as Decoder);
  registry.nearest.clear();
  serializer.registerCustom<Concept, JsonValue>(
    {
      isApplicable: (value): value is Concept => value instanceof Concept && nearestName(registry, value.constructor) === name,
      serialize: (value) => value.toJSON() as JsonValue,
      deserialize: (json) => registry.classes.get(name)!.fromJSON(json),
    },
    name,
  );
}

/** The superjson codec shared by RPC servers and clients; every built-in concept is registered. */
export const fusionSerializer = new SuperJSON();

for (const cls of [Case, Identity, Identities, Event, Constant, Info, AuthInfo, PendingDownloadKey, AnalyzerInfo, Analysis]) {
  registerConcept(cls);
}
