/** Checks the shape of a webhook URL (global or a case's), before anything is sent to it. */
import { FusionError } from '../../../helper/errors.js';
import { AddressPolicy } from './address-policy.js';
import { checkLiteralHost } from './guarded-lookup.js';

/** The part of the webhook config URL checks read: `event.webhook_allow`. */
export interface WebhookAllowList {
  readonly allow: readonly string[];
}

/** Longest webhook URL accepted, in characters. */
export const MAX_WEBHOOK_URL_LENGTH = 2048;

const policies = new WeakMap<readonly string[], AddressPolicy>();

/** The AddressPolicy of a config's allow list (built once per list). */
export function policyOf(config: WebhookAllowList): AddressPolicy {
  let policy = policies.get(config.allow);
  if (policy === undefined) {
    policy = new AddressPolicy(config.allow);
    policies.set(config.allow, policy);
  }
  return policy;
}

/**
 * Validates a webhook URL and returns it normalized (`new URL(url).href`): http or https, a
 * host, no `user:password@`, at most 2048 characters, and not an IP literal in a refused range
 * (unless `event.webhook_allow` lists it). Host names are resolved at delivery time, not here.
 * Throws FusionError FUSION_ERR_WEBHOOK_URL (400) or FUSION_ERR_WEBHOOK_REFUSED (400).
 */
export function validateWebhookUrl(url: unknown, config: WebhookAllowList): string {
  const bad = (problem: string): FusionError =>
    new FusionError('FUSION_ERR_WEBHOOK_URL', `webhook URL ${JSON.stringify(typeof url === 'string' ? url.slice(0, 100) : url)} ${problem}`);
  if (typeof url !== 'string' || url.trim() === '') throw bad('is not a non-empty string');
  if (url.length > MAX_WEBHOOK_URL_LENGTH) throw bad(`is longer than ${MAX_WEBHOOK_URL_LENGTH} characters`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad('is not an absolute URL (expected https://host/path)');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw bad(`uses ${parsed.protocol} (only http: and https: are allowed)`);
  if (parsed.username !== '' || parsed.password !== '') throw bad('holds credentials (user:password@): use event.api_key or a secret instead');
  if (parsed.hostname === '') throw bad('has no host');
  checkLiteralHost(policyOf(config), parsed.hostname);
  parsed.hash = '';
  return parsed.href;
}
