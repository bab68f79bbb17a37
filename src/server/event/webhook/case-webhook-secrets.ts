/**
 * What `GET /api/events/case/:case_guid/webhooks` answers: each URL the case lists, whether it
 * is a trusted destination (then it gets the operator's token and signatures, never shown
 * here), and otherwise the `whsec_` secret(s) its deliveries are signed with (several while the
 * global secrets rotate).
 */
import type { FusionWebhookConfig } from './config.js';
import { endpointSecret } from './endpoint-secret.js';
import { validateWebhookUrl } from './webhook-url.js';

/** One case webhook as its owners see it. */
export interface CaseWebhookSecret {
  /** The URL deliveries go to (normalized). */
  url: string;
  /** True for the global webhook and `trusted_webhooks`: signed with the operator's secrets (not shown). */
  trusted: boolean;
  /** The secrets that sign deliveries to this URL (empty when trusted or no `event.secret` is set). */
  secrets: string[];
}

/** The signing secrets of the webhooks `caseGuid` lists (invalid URLs are left out: nothing is sent to them). */
export function caseWebhookSecrets(config: FusionWebhookConfig, caseGuid: string, webhooks: readonly string[]): CaseWebhookSecret[] {
  const trusted = new Set([...(config.webhook === undefined ? [] : [config.webhook]), ...config.trusted]);
  const out = new Map<string, CaseWebhookSecret>();
  for (const given of webhooks) {
    let url: string;
    try {
      url = validateWebhookUrl(given, config);
    } catch {
      continue;
    }
    if (out.has(url)) continue;
    const isTrusted = trusted.has(url);
    out.set(url, { url, trusted: isTrusted, secrets: isTrusted ? [] : config.secrets.map((secret) => endpointSecret(secret, caseGuid, url)) });
  }
  return [...out.values()];
}
