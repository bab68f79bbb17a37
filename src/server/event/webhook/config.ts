/**
 * The webhook keys of the `event` section. The event API calls parseWebhookConfig on its
 * section reader, then checks for unknown keys: every key read here is known.
 */
import type { ConfigReader } from '../../../helper/config.js';
import { isAllowEntry } from './address-policy.js';
import { secretProblem } from '../../../helper/webhook-signature.js';
import { validateWebhookUrl } from './webhook-url.js';

/** The parsed webhook settings (times in seconds). */
export interface FusionWebhookConfig {
  /** `webhook`: the global URL every event is POSTed to (normalized); undefined for none. */
  webhook?: string;
  /** `api_key`: sent as `X-Fusion-Notifier-Token` (as edf_fusion) to trusted destinations only; may come from `{ env: NAME }`. */
  apiKey?: string;
  /**
   * `trusted_webhooks`: URLs (normalized) that, like the global webhook, receive the notifier token and
   * the global signatures when a case lists them. Every other case URL gets its own derived secret.
   */
  trusted: readonly string[];
  /** `timeout`: seconds one delivery attempt may take (connect, send, answer). */
  timeout: number;
  /** `secret` or `secrets`: Standard Webhooks `whsec_` secrets; several during a rotation (all sign). */
  secrets: readonly string[];
  /** `webhook_allow`: host names (`*.corp` too), addresses or CIDRs reachable despite the SSRF guard. */
  allow: readonly string[];
  /** `deadline`: seconds a delivery is retried after the event, before it fails and its endpoint is disabled. */
  deadline: number;
  /** `backoff_base`: seconds; attempt n waits a random time up to min(backoff_max, backoff_base * 2^(n-1)). */
  backoffBase: number;
  /** `backoff_max`: the longest wait between two attempts, in seconds. */
  backoffMax: number;
  /** `webhook_concurrency`: attempts in flight at once per instance. */
  concurrency: number;
  /** `webhook_poll_interval`: seconds between looks for due deliveries (other instances', restarts). */
  pollInterval: number;
  /** `webhook_retention`: seconds finished deliveries (delivered, failed, disabled) are kept. */
  retention: number;
}

/** The defaults of the webhook keys. */
export const DEFAULT_WEBHOOK_CONFIG: Readonly<FusionWebhookConfig> = Object.freeze({
  timeout: 10,
  secrets: Object.freeze([]) as readonly string[],
  trusted: Object.freeze([]) as readonly string[],
  allow: Object.freeze([]) as readonly string[],
  deadline: 24 * 3600,
  backoffBase: 5,
  backoffMax: 900,
  concurrency: 8,
  pollInterval: 1,
  retention: 7 * 24 * 3600,
});

/** Parses the webhook keys of the `event` section; throws ConfigError naming the bad key. */
export function parseWebhookConfig(reader: ConfigReader): FusionWebhookConfig {
  const d = DEFAULT_WEBHOOK_CONFIG;
  const allow = reader.stringList('webhook_allow', { minLength: 1 }).map((entry, i) => {
    if (!isAllowEntry(entry)) throw reader.error(`webhook_allow[${i}]`, `expected a host name, an IP address or a CIDR, got ${JSON.stringify(entry)}`);
    return entry;
  });
  const config: FusionWebhookConfig = {
    timeout: reader.number('timeout', { default: d.timeout, min: 0.001 }),
    secrets: parseSecrets(reader),
    allow: Object.freeze(allow),
    trusted: Object.freeze([]),
    deadline: reader.number('deadline', { default: d.deadline, min: 0.001 }),
    backoffBase: reader.number('backoff_base', { default: d.backoffBase, min: 0.001 }),
    backoffMax: reader.number('backoff_max', { default: d.backoffMax, min: 0.001 }),
    concurrency: reader.integer('webhook_concurrency', { default: d.concurrency, min: 1, max: 1000 }),
    pollInterval: reader.number('webhook_poll_interval', { default: d.pollInterval, min: 0.01 }),
    retention: reader.number('webhook_retention', { default: d.retention, min: 0 }),
  };
  if (config.backoffMax < config.backoffBase) throw reader.error('backoff_max', `must be >= backoff_base (${config.backoffBase})`);
  const apiKey = reader.optionalString('api_key', { minLength: 1, secret: true });
  if (apiKey !== undefined) config.apiKey = apiKey;
  const webhook = reader.optionalString('webhook');
  if (webhook !== undefined && webhook !== '') {
    try {
      config.webhook = validateWebhookUrl(webhook, config);
    } catch (error) {
      throw reader.error('webhook', (error as Error).message);
    }
  }
  const trusted = reader.stringList('trusted_webhooks', { minLength: 1 }).map((url, i) => {
    try {
      return validateWebhookUrl(url, config);
    } catch (error) {
      throw reader.error(`trusted_webhooks[${i}]`, (error as Error).message);
    }
  });
  config.trusted = Object.freeze(trusted);
  return config;
}

function parseSecrets(reader: ConfigReader): readonly string[] {
  if (reader.has('secret') && reader.has('secrets')) throw reader.error('secrets', 'give either secret or secrets, not both');
  const secrets = reader.has('secret')
    ? [reader.string('secret', { minLength: 1, secret: true })]
    : reader.stringList('secrets', { minLength: 1 });
  const key = reader.has('secret') ? () => 'secret' : (i: number) => `secrets[${i}]`;
  secrets.forEach((secret, i) => {
    const problem = secretProblem(secret);
    if (problem !== null) throw reader.error(key(i), problem);
  });
  if (new Set(secrets).size !== secrets.length) throw reader.error('secrets', 'lists the same secret twice');
  return Object.freeze(secrets);
}
