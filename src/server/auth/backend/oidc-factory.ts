/**
 * The registry's entries for the `oidc` and `keycloak` strategies: the config is parsed with
 * no OIDC library loaded, and the backend's modules (openid-client, jose, undici: ~140 ms of
 * CPU at start) are imported only when such a backend is created, so a `basic` server never
 * loads them.
 */
import type { ConfigReader } from '../../../helper/config.js';
import type { FusionAuthBackend } from './backend.js';
import { parseOidcAuthConfig } from './oidc/config.js';
import type { OidcAuthOptions, OidcFlavor } from './oidc/config.js';

/** The registry entry for strategy `flavor`: parses `auth.backend.<flavor>`, creates an OidcAuthBackend (imported then). */
export function lazyOidcAuthBackendFactory(flavor: OidcFlavor): {
  parseConfig: (reader: ConfigReader) => OidcAuthOptions;
  create: (options: OidcAuthOptions) => Promise<FusionAuthBackend>;
} {
  return {
    parseConfig: (reader: ConfigReader) => parseOidcAuthConfig(reader, flavor),
    create: async (options: OidcAuthOptions): Promise<FusionAuthBackend> => {
      const { OidcAuthBackend } = await import('./oidc.js');
      return new OidcAuthBackend(options);
    },
  };
}
